import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccessPolicy,
  applyAbort,
  applyApproval,
  applyDecision,
  applyRetry,
  applySkip,
  beginStep,
  type CommandActor,
  decideNext,
  type EngineCommand,
  foldRun,
  getScenario,
  jobIdFor,
  parseScenario,
  RunEventSchema,
  recordOutcome,
  SCENARIO_NAMES,
} from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, append, type Drive, eventsOf, run, STARTER, start, step } from './driver.js';
import { World } from './world.js';

function until(
  d: Drive,
  done: (cmd: EngineCommand) => boolean,
  policy: Parameters<typeof step>[1] = {},
): EngineCommand {
  for (let i = 0; i < 300; i++) {
    const out = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    if (done(out.command)) {
      append(d, out.events);
      return out.command;
    }
    if (step(d, policy) === 'stop') throw new Error('run stopped before the expected command');
  }
  throw new Error('expected command never came');
}

const restartFault = () => {
  const w = new World();
  w.runtimeUp = false;
  return w;
};

describe('deadlines and polling', () => {
  it('polls with backoff and fails a wait_until at its deadline, pausing the run', () => {
    const w = restartFault();
    // The restart "succeeds" but the node never answers.
    const d = run(start(w, 'restart'), {
      intercept: (call) =>
        call.executor === 'host.restart_runtime'
          ? {
              kind: 'measured',
              measurement: {
                mode: 'command',
                argv: ['x'],
                exitCode: 0,
                signal: null,
                timedOut: false,
                durationMs: 1,
                outputTail: '',
              },
            }
          : undefined,
    });
    expect(d.state.status).toBe('paused');
    const waits = eventsOf(d, 'step_waiting').filter((e) => e.stepId === 'wait_healthz');
    const started = eventsOf(d, 'step_started').find((e) => e.stepId === 'wait_healthz');
    const gaps = waits.map((e) => Date.parse(e.nextCheckAt) - Date.parse(e.at));
    // 250 ms growing by a quarter per check, at most 5 s apart.
    expect(gaps.slice(0, 5)).toEqual([250, 312.5, 390.625, 488.28125, 610.3515625].map(Math.floor));
    expect(Math.max(...gaps)).toBe(5_000);
    expect(waits.at(-1)?.nextCheckAt).toBe(started?.deadlineAt);
    expect(Date.parse(started?.deadlineAt ?? '') - Date.parse(started?.at ?? '')).toBe(300_000);
    expect(d.state.steps.wait_healthz).toMatchObject({
      status: 'failed',
      error: { code: 'deadline_exceeded', message: 'still not satisfied after 5 min' },
    });
    expect(d.commands.at(-1)).toMatchObject({
      type: 'paused',
      stepId: 'wait_healthz',
      options: ['retry', 'skip', 'abort'],
    });
    // Each poll is its own job.
    const pollJobs = d.jobs.filter((j) => j.includes('-wait_healthz-'));
    expect(new Set(pollJobs).size).toBe(pollJobs.length);
  });

  it('passes a wait with onDeadline "pass" and hands its last outputs to the next decision', () => {
    const w = new World();
    w.postgresUp = false;
    w.connected = false;
    w.reconnectsByItself = false;
    const d = run(start(w, 'postgres'), {
      decide: (cmd) => (cmd.stepId === 'restart_decision' ? { optionId: 'no_restart', reason: 'watching' } : undefined),
      pause: () => 'stop',
    });
    const reconnect = d.state.steps.wait_reconnect;
    expect(reconnect).toMatchObject({ status: 'passed', outputs: { reconnected: false } });
    expect(reconnect?.evidence.at(-1)).toMatchObject({ label: 'deadline', ok: false });
    expect(eventsOf(d, 'decision_requested').some((e) => e.stepId === 'restart_decision')).toBe(true);
  });

  it('re-checks a probe after its poll interval to take the second sample', () => {
    const w = restartFault();
    w.cursors.trace_summary = 2150;
    const d = start(w, 'restart');
    const cmd = until(d, (c) => c.type === 'check_again' && c.stepId === 'check_projections');
    expect(cmd).toMatchObject({ poll: 1, jobId: 'run-1-check_projections-a1-p1' });
    const waiting = eventsOf(d, 'step_waiting').at(-1);
    expect(Date.parse((cmd as { at: string }).at) - Date.parse(waiting?.at ?? '')).toBe(3_000);
    expect((cmd as { delayMs: number }).delayMs).toBeGreaterThan(2_000);
  });
});

describe('transient failures', () => {
  it('retries a transient failure on its own within the policy, then passes', () => {
    const w = new World();
    w.transientFailures['sql.projection_failures'] = 2;
    const d = run(start(w, 'projections'));
    const failures = eventsOf(d, 'step_failed').filter((e) => e.stepId === 'inspect_failures');
    expect(failures.map((e) => [e.attempt, e.transient, Date.parse(e.retryAt ?? '') - Date.parse(e.at)])).toEqual([
      [1, true, 2_000],
      [2, true, 4_000],
    ]);
    expect(d.state.steps.inspect_failures).toMatchObject({ status: 'passed', attempt: 3 });
    expect(d.jobs.filter((j) => j.includes('inspect_failures'))).toEqual([
      'run-1-inspect_failures-a1-p0',
      'run-1-inspect_failures-a2-p0',
      'run-1-inspect_failures-a3-p0',
    ]);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('pauses once the retries are used up, with Retry, Skip and Abort', () => {
    const w = new World();
    w.transientFailures['sql.projection_failures'] = 3;
    const d = run(start(w, 'projections'));
    expect(d.state.status).toBe('paused');
    expect(eventsOf(d, 'run_paused')[0]).toMatchObject({
      stepId: 'inspect_failures',
      options: ['retry', 'skip', 'abort'],
    });
    expect(d.state.steps.inspect_failures?.error?.code).toBe('DG_ERR_API_TIMEOUT');
  });

  it('treats a transient failure inside a wait as one more unsatisfied check', () => {
    const w = restartFault();
    w.transientFailures['dg.trace_read'] = 2;
    const d = run(start(w, 'restart'));
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(eventsOf(d, 'step_waiting').filter((e) => e.stepId === 'read_trace')).toHaveLength(2);
    expect(eventsOf(d, 'step_failed').filter((e) => e.stepId === 'read_trace')).toHaveLength(0);
  });
});

describe('pause: retry, skip, abort', () => {
  const pausedOnInspect = () => {
    const w = new World();
    w.transientFailures['sql.projection_failures'] = 3;
    return run(start(w, 'projections'));
  };

  it('retries the failed step as a new attempt with a new job id', () => {
    const d = pausedOnInspect();
    const before = decideNext(d.state, d.scenario, d.now).command;
    expect(before.type).toBe('paused');
    run(d, { pause: () => ({ retry: true }) });
    expect(eventsOf(d, 'run_resumed')[0]).toMatchObject({
      action: 'retry',
      stepId: 'inspect_failures',
      by: { id: 'U034DEF' },
    });
    expect(d.jobs).toContain('run-1-inspect_failures-a4-p0');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('skips the failed step with a reason and goes on', () => {
    const d = pausedOnInspect();
    run(d, { pause: () => ({ skip: 'SQL role lacks SELECT on failures; checked by hand' }) });
    expect(d.state.steps.inspect_failures?.skip).toMatchObject({ cause: 'operator', by: { id: 'U012ABC' } });
    // Conditions on a skipped step's outputs do not hold: the "nothing to repair" shortcut is not offered.
    expect(d.state.steps.nothing_to_repair?.status).toBe('skipped');
    // An ordinary read-only step needs no second person, but the run did not recover by the book.
    expect(eventsOf(d, 'skip_requested')).toEqual([]);
    expect(d.state.outcome?.outcome).toBe('recovered_with_exceptions');
  });

  it('aborts the run', () => {
    const d = pausedOnInspect();
    run(d, { pause: () => ({ abort: 'drill over' }) });
    expect(d.state.outcome?.outcome).toBe('aborted');
    expect(eventsOf(d, 'run_aborted')[0]).toMatchObject({ reason: 'drill over', stepId: 'inspect_failures' });
  });

  it('finishes as failed, not recovered, when the checklist gate is skipped', () => {
    const w = restartFault();
    w.traceMissing = true;
    const d = run(start(w, 'restart'), { pause: (cmd) => ({ skip: `skip ${cmd.stepId}` }) });
    expect(d.state.steps.gate?.status).toBe('skipped');
    expect(d.state.outcome).toMatchObject({
      outcome: 'failed',
      gate: { stepId: 'gate', passed: false, skipped: true },
    });
  });

  it('asks an approver, not the starter, to retry a failed destructive step', () => {
    const w = new World();
    w.smokeFailing = ['trace_read'];
    w.hostFailures.stop_runtime = 1;
    const d = run(start(w, 'upgrade', { traceId: 'trace-demo', previousRelease: 'v1.4.2' }));
    expect(d.commands.at(-1)).toMatchObject({ type: 'paused', stepId: 'stop_runtime', retryNeedsApprover: true });
    const byStarter = applyRetry(d.state, d.scenario, { by: STARTER }, ACCESS, d.now);
    expect(byStarter).toMatchObject({ ok: false, refusal: { code: 'not_approver' } });
    const open = { ...ACCESS, approvers: null };
    expect(applyRetry(d.state, d.scenario, { by: STARTER }, open, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'same_person' },
    });
    run(d, { pause: () => ({ retry: true }) });
    expect(d.state.outcome?.outcome).toBe('recovered');
    // The retry re-probed first: the runtime was still up, so the stop ran again.
    expect(eventsOf(d, 'step_rechecked').find((e) => e.stepId === 'stop_runtime')).toMatchObject({
      alreadyDone: false,
      attempt: 2,
    });
    expect(w.hostCalls.stop_runtime).toBe(2);
  });
});

describe('approvals', () => {
  it('voids an approval when the re-check before the destructive step measures something else, and asks again', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    let rechecks = 0;
    const d = run(start(w, 'event-log'), {
      intercept: (call, stepId) => {
        if (stepId === 'approve_stop_writes' && call.executor === 'sql.integrity' && rechecks++ === 0) {
          w.integrity = { payload_hash_drift: 5, trace_seq_range: 1 };
        }
        return undefined;
      },
    });
    const voided = eventsOf(d, 'approval_voided');
    expect(voided).toHaveLength(1);
    expect(voided[0]).toMatchObject({ stepId: 'approve_stop_writes', round: 1 });
    expect(voided[0]?.reason).toContain('what bo approved has changed (signature)');
    expect(voided[0]?.seenFingerprint).not.toBe(voided[0]?.currentFingerprint);
    const requests = eventsOf(d, 'approval_requested').filter((e) => e.stepId === 'approve_stop_writes');
    expect(requests.map((r) => r.round)).toEqual([1, 2]);
    expect(requests[1]?.fingerprint).toBe(voided[0]?.currentFingerprint);
    expect(requests[1]?.evidence.find((e) => e.label === 'payload hash drift')?.measured).toBe(5);
    expect(w.hostCalls.stop_writes).toBe(1);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('enforces the two-person rule and the approvers list', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = start(w, 'event-log');
    const cmd = until(d, (c) => c.type === 'await_approval');
    expect(cmd).toMatchObject({ stepId: 'approve_stop_writes', approvers: ['U034DEF'], excluded: ['U012ABC'] });
    const input = { stepId: 'approve_stop_writes', fingerprint: (cmd as { fingerprint: string }).fingerprint };
    const approve = (by: CommandActor, access: AccessPolicy, fingerprint = input.fingerprint) =>
      applyApproval(d.state, d.scenario, { ...input, fingerprint, by }, access, d.now);
    expect(approve(STARTER, { ...ACCESS, approvers: null })).toMatchObject({
      ok: false,
      refusal: { code: 'same_person' },
    });
    expect(approve({ id: 'U777', via: 'slack' }, ACCESS)).toMatchObject({
      ok: false,
      refusal: { code: 'not_approver' },
    });
    expect(approve({ id: 'U777', via: 'slack', groups: ['S0OPS'] }, { ...ACCESS, approvers: ['S0OPS'] }).ok).toBe(true);
    expect(approve(STARTER, { ...ACCESS, approvers: null, twoPersonRule: false }).ok).toBe(true);
    expect(approve(APPROVER, ACCESS, 'fp-0000')).toMatchObject({
      ok: false,
      refusal: { code: 'stale_fingerprint' },
    });
  });

  it('treats a second click on Approve as a no-op and refuses a third person', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = start(w, 'event-log');
    until(d, (c) => c.type === 'await_approval');
    const first = applyApproval(d.state, d.scenario, { stepId: 'approve_stop_writes', by: APPROVER }, ACCESS, d.now);
    if (!first.ok) throw new Error('refused');
    append(d, first.events);
    const next1 = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    expect(applyApproval(d.state, d.scenario, { stepId: 'approve_stop_writes', by: APPROVER }, ACCESS, d.now)).toEqual({
      ok: true,
      events: [],
      duplicate: true,
    });
    expect(
      applyApproval(
        d.state,
        d.scenario,
        { stepId: 'approve_stop_writes', by: { id: 'U9', via: 'cli' } },
        ACCESS,
        d.now,
      ),
    ).toMatchObject({
      ok: false,
      refusal: { code: 'already_decided', by: { id: 'U034DEF' } },
    });
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS })).toEqual(next1);
    expect(next1.command).toMatchObject({
      type: 'run_step',
      stepId: 'approve_stop_writes',
      purpose: 'approval_recheck',
      jobId: 'run-1-approve_stop_writes-a1-p0',
    });
  });
});

describe('idempotence and redelivery', () => {
  it('decides the same thing twice from the same state', () => {
    const d = start(restartFault(), 'restart');
    for (let i = 0; i < 12; i++) {
      const a = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
      const b = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
      expect(b).toEqual(a);
      step(d);
    }
  });

  it('makes a repeated decision a no-op with the same next job id', () => {
    const w = restartFault();
    w.cursors.trace_summary = 2150;
    const d = start(w, 'restart');
    until(d, (c) => c.type === 'await_decision' && c.stepId === 'catch_up_decision');
    const input = { stepId: 'catch_up_decision', optionId: 'catch_up', by: STARTER };
    const first = applyDecision(d.state, d.scenario, input, ACCESS, d.now);
    if (!first.ok) throw new Error('refused');
    append(d, first.events);
    const next = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    append(d, next.events);
    expect(next.command).toMatchObject({ type: 'run_step', jobId: 'run-1-start_catch_up-a1-p0' });
    const again = applyDecision(d.state, d.scenario, input, ACCESS, d.now);
    expect(again).toEqual({ ok: true, events: [], duplicate: true });
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toEqual(next.command);
    expect(
      applyDecision(d.state, d.scenario, { ...input, optionId: 'wait', reason: 'x', by: APPROVER }, ACCESS, d.now),
    ).toMatchObject({
      ok: false,
      refusal: {
        code: 'already_decided',
        message: 'already decided: Request a catch_up replay of all projections by ana',
      },
    });
  });

  it('does not restart twice when the job is redelivered after the restart happened', () => {
    const w = restartFault();
    const d = start(w, 'restart');
    const cmd = until(d, (c) => c.type === 'run_step' && c.stepId === 'restart_runtime');
    const jobId = (cmd as { jobId: string }).jobId;
    // First delivery: starts the step, restarts the node, then the worker dies before recording the outcome.
    const first = beginStep(d.state, d.scenario, { jobId }, d.now);
    if (first.kind !== 'execute') throw new Error(`unexpected ${first.kind}`);
    append(d, first.events);
    w.respond(first.call);
    expect(w.hostCalls.restart_runtime).toBe(1);
    // The engine still wants the same job: re-enqueueing it is a no-op for BullMQ while it exists.
    expect(decideNext(d.state, d.scenario, d.now).command).toMatchObject({ type: 'run_step', jobId });
    // Second delivery: the step was started, so the side effect is re-probed before anything is repeated.
    const second = beginStep(d.state, d.scenario, { jobId }, d.now);
    expect(second).toMatchObject({
      kind: 'recheck',
      events: [{ type: 'step_interrupted', stepId: 'restart_runtime', attempt: 1, next: 'recheck' }],
    });
    if (second.kind !== 'recheck') throw new Error('unexpected');
    append(d, second.events);
    expect(second.recheck).toMatchObject({ executor: 'dg.healthz', judge: 'healthz.up', risk: 'read_only' });
    expect(second.call.idempotencyKey).toBe(first.call.idempotencyKey);
    const r = recordOutcome(
      d.state,
      d.scenario,
      { jobId, phase: 'recheck', outcome: w.respond(second.recheck) },
      d.now,
    );
    expect(r.alreadyDone).toBe(true);
    append(d, r.events);
    expect(d.state.steps.restart_runtime).toMatchObject({
      status: 'passed',
      alreadyDone: true,
      outputs: { alreadyDone: true },
    });
    expect(w.hostCalls.restart_runtime).toBe(1);
    run(d);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('runs the action after a re-check that finds it not done once the node could have booted', () => {
    const w = restartFault();
    const d = start(w, 'restart');
    const cmd = until(d, (c) => c.type === 'run_step' && c.stepId === 'restart_runtime');
    const jobId = (cmd as { jobId: string }).jobId;
    const begun = beginStep(d.state, d.scenario, { jobId }, d.now);
    if (begun.kind === 'stale') throw new Error(begun.reason);
    append(d, begun.events);
    const startedAt = Date.parse(d.state.steps.restart_runtime?.startedAt ?? '');
    // The worker died before the action ran; the redelivered job re-probes and finds the node down. A restart that
    // did reach the host may still be booting, so the re-check waits out the boot deadline before running it again.
    until(d, (c) => c.type === 'run_step' && c.stepId === 'restart_runtime' && c.attempt === 2);
    expect(w.hostCalls.restart_runtime).toBeUndefined();
    expect(d.now.getTime() - startedAt).toBeGreaterThanOrEqual(300_000);
    expect(eventsOf(d, 'step_failed').at(-1)).toMatchObject({
      stepId: 'restart_runtime',
      attempt: 1,
      error: { code: 'not_done_after_interruption' },
    });
    step(d);
    // Attempt 2 re-checks once more (the node is still down) and restarts.
    expect(eventsOf(d, 'step_rechecked').at(-1)).toMatchObject({ stepId: 'restart_runtime', alreadyDone: false });
    expect(w.hostCalls.restart_runtime).toBe(1);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 2 });
  });

  it('drops a stale job and a late outcome without recording anything', () => {
    const w = restartFault();
    const d = start(w, 'restart');
    const cmd = until(d, (c) => c.type === 'run_step' && c.stepId === 'check_postgres');
    expect(beginStep(d.state, d.scenario, { jobId: jobIdFor('run-1', 'check_healthz', 1, 0) }, d.now)).toMatchObject({
      kind: 'stale',
      reason: `the run expects job ${(cmd as { jobId: string }).jobId}`,
    });
    const late = recordOutcome(
      d.state,
      d.scenario,
      {
        jobId: 'run-1-check_healthz-a1-p0',
        phase: 'execute',
        outcome: w.respond({
          runId: 'run-1',
          tenantId: 'default',
          executor: 'dg.healthz',
          judge: 'healthz.symptoms',
          params: {},
          timeoutMs: 1,
          idempotencyKey: 'k',
          risk: 'read_only',
        }),
      },
      d.now,
    );
    expect(late).toEqual({ events: [], stale: true });
  });

  it('makes job ids BullMQ accepts: no colon, never all digits, one per attempt and poll', () => {
    const w = restartFault();
    w.cursors.trace_summary = 2150;
    const d = run(start(w, 'restart', { traceId: 'trace-demo' }, '2026-03-07'));
    expect(d.jobs.length).toBeGreaterThan(10);
    for (const id of d.jobs) {
      expect(id).not.toContain(':');
      expect(id).not.toMatch(/^\d+$/);
    }
    expect(new Set(d.jobs).size).toBe(d.jobs.length);
  });
});

describe('random walks', () => {
  it('any choices of options and pause actions end the run, with every event valid and the log refolding to the same state', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCENARIO_NAMES),
        fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
        fc.record({
          runtimeUp: fc.boolean(),
          postgresUp: fc.boolean(),
          behind: fc.boolean(),
          drift: fc.boolean(),
          manual: fc.boolean(),
          smoke: fc.boolean(),
        }),
        (name, picks, fault) => {
          const w = new World();
          w.runtimeUp = fault.runtimeUp;
          w.postgresUp = fault.postgresUp;
          w.connected = fault.postgresUp;
          if (fault.behind) w.cursors.trace_summary = 2100;
          if (fault.drift) w.integrity = { payload_hash_drift: 1 };
          if (fault.manual) w.defaultMode = 'manual';
          if (fault.smoke) w.smokeFailing = ['trace_read'];
          let i = 0;
          const next = () => picks[i++ % picks.length] as number;
          const d = start(w, name, { traceId: 'trace-demo', previousRelease: 'v1.4.2' });
          run(
            d,
            {
              decide: (cmd) => {
                const o = cmd.options[next() % cmd.options.length];
                if (o === undefined) return undefined;
                return { optionId: o.id, reason: 'random walk', ...(o.needsValue ? { value: 'v1.4.1' } : {}) };
              },
              pause: () => {
                const k = next() % 3;
                return k === 0 ? { retry: true } : k === 1 ? { skip: 'random walk' } : { abort: 'drill over' };
              },
            },
            2000,
          );
          expect(d.state.status).toBe('finished');
          for (const e of d.events) RunEventSchema.parse(e);
          expect(foldRun(d.events)).toEqual(d.state);
          expect(d.events.map((e) => e.seq)).toEqual(d.events.map((_, k) => k + 1));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to decide for a scenario the run is not', () => {
    const d = start(new World(), 'restart');
    expect(() => decideNext(d.state, getScenario('postgres'), d.now)).toThrow(/restart run/);
  });

  it('records a skip reason for every step a condition skips', () => {
    const d = run(start(restartFault(), 'restart'));
    const skipped = eventsOf(d, 'step_skipped');
    expect(skipped.find((e) => e.stepId === 'read_inbox')).toMatchObject({
      cause: 'condition',
      reason: 'condition not met: workflowId is set',
      by: null,
    });
    expect(skipped.find((e) => e.stepId === 'postgres_down')?.reason).toBe(
      'condition not met: check_postgres.postgres is unreachable',
    );
  });
});

describe('skip is refused outside a pause', () => {
  it('says the run is not paused', () => {
    const d = start(new World(), 'restart');
    expect(applySkip(d.state, d.scenario, { by: STARTER, reason: 'x' }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'not_paused' },
    });
  });
});

describe('scenario data the engine must survive', () => {
  it('pauses on a decision none of whose options applies, and goes on when it is skipped', () => {
    const scenario = parseScenario({
      name: 'upgrade',
      // The run is started on the shipped upgrade data (version 2); this stand-in continues it.
      version: 2,
      title: 'test',
      summary: 'test',
      aliases: [],
      scope: 'node',
      requires: [],
      steps: [
        { id: 'probe', kind: 'probe', title: 'SQL', risk: 'read_only', executor: 'sql.reach', judge: 'sql.symptoms' },
        {
          id: 'pick',
          kind: 'decision',
          title: 'Pick',
          risk: 'read_only',
          prompt: 'Which release?',
          options: [
            {
              id: 'configured',
              label: '{value}',
              when: { param: 'previousRelease', present: true },
              value: { $ref: { from: 'param', name: 'previousRelease' } },
            },
          ],
        },
        {
          id: 'gate',
          kind: 'gate',
          title: 'Gate',
          risk: 'read_only',
          executor: 'gate.checklist',
          params: { traceId: 't' },
        },
      ],
    });
    const w = new World();
    const d: Drive = { ...start(w, 'upgrade'), scenario };
    let asked = 0;
    run(d, {
      pause: (cmd) => {
        asked++;
        return asked === 1 ? { retry: true } : { skip: `no release for ${cmd.stepId}` };
      },
    });
    expect(eventsOf(d, 'step_failed').map((e) => e.error.code)).toEqual(['no_options', 'no_options']);
    expect(d.state.steps.pick?.status).toBe('skipped');
    expect(d.state.outcome?.outcome).toBe('recovered_with_exceptions');
  });
});

describe('a run started on another version of its scenario', () => {
  // The bot was upgraded mid-run: the stored run says version 1, the data loaded now is version 2.
  const shipped = getScenario('restart');
  const bumped = (extra: { compatibleWith?: number[] } = {}) => parseScenario({ ...shipped, version: 2, ...extra });

  it('stops the run with only Abort offered, and neither runs, records nor accepts anything else', () => {
    const d = start(restartFault(), 'restart');
    const first = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    expect(first.command.type).toBe('run_step');
    const wanted = first.command.type === 'run_step' ? first.command.jobId : '';
    append(d, first.events);

    const newer = bumped();
    const out = decideNext(d.state, newer, d.now, { access: ACCESS });
    expect(out.events).toMatchObject([{ type: 'run_paused', options: ['abort'] }]);
    expect(out.command).toMatchObject({
      type: 'paused',
      options: ['abort'],
      retryNeedsApprover: false,
      scenarioChanged: { runVersion: 1, loadedVersion: 2 },
    });
    expect(out.command.type === 'paused' && out.command.reason).toMatch(
      /started on version 1 of the restart scenario.*version 2.*Abort it and start a new run/,
    );
    for (const e of out.events) RunEventSchema.parse(e);
    append(d, out.events);
    // Deciding again adds nothing: the pause is already recorded.
    expect(decideNext(d.state, newer, d.now, { access: ACCESS }).events).toEqual([]);

    // The job the run wanted before the upgrade is dropped, and a late outcome is not recorded.
    expect(beginStep(d.state, newer, { jobId: wanted }, d.now).kind).toBe('stale');
    const late = recordOutcome(
      d.state,
      newer,
      {
        jobId: wanted,
        phase: 'execute',
        outcome: { kind: 'error', error: { code: 'DG_ERR_API_UNREACHABLE', message: 'refused', transient: true } },
      },
      d.now,
    );
    expect(late).toEqual({ events: [], stale: true });

    expect(applyRetry(d.state, newer, { by: APPROVER }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'scenario_changed' },
    });
    expect(applySkip(d.state, newer, { by: STARTER, reason: 'go on' }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'scenario_changed' },
    });
    const aborted = applyAbort(d.state, { by: STARTER, reason: 'bot upgraded' }, ACCESS, d.now);
    expect(aborted.ok).toBe(true);
    if (aborted.ok) append(d, aborted.events);
    expect(decideNext(d.state, newer, d.now).command).toMatchObject({ type: 'finished', outcome: 'aborted' });
  });

  it('refuses decisions and approvals, also on a run newer than the data (a bot rolled back)', () => {
    const d = start(restartFault(), 'restart');
    const state = { ...d.state, scenarioVersion: 3 };
    const data = bumped({ compatibleWith: [1] });
    expect(
      applyDecision(state, data, { stepId: 'restart_decision', optionId: 'x', by: STARTER }, ACCESS, d.now),
    ).toMatchObject({ ok: false, refusal: { code: 'scenario_changed' } });
    expect(applyApproval(state, data, { stepId: 'approve', by: APPROVER }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'scenario_changed', message: expect.stringContaining('started on version 3') },
    });
  });

  it('goes on when the loaded data declares the run version compatible', () => {
    const d: Drive = { ...start(restartFault(), 'restart'), scenario: bumped({ compatibleWith: [1] }) };
    run(d);
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(eventsOf(d, 'run_paused')).toEqual([]);
  });

  it('refuses data that calls a later version compatible', () => {
    expect(() => bumped({ compatibleWith: [2] })).toThrow(/compatibleWith: 2 is not an earlier version than 2/);
  });
});
