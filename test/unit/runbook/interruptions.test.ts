import { describe, expect, it } from 'vitest';
import {
  applyDecision,
  beginStep,
  decideNext,
  type EngineCommand,
  type ExecutorCall,
  foldRun,
  type HostActionMode,
  INTERRUPTION_OPTIONS,
  type StepOutcome,
} from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, append, type Drive, eventsOf, type Policy, run, STARTER, start, step } from './driver.js';
import { World } from './world.js';

// A worker that dies between recording a step's start and recording its outcome leaves the attempt open. The next
// delivery of the job must not repeat a side effect blindly.

type RunStep = Extract<EngineCommand, { type: 'run_step' }>;

/** Drives the run until the engine asks for `attempt` of `stepId`. */
function untilStep(d: Drive, stepId: string, policy: Policy = {}, attempt = 1): RunStep {
  for (let i = 0; i < 300; i++) {
    const out = decideNext(d.state, d.scenario, d.now, { ...d.engine, access: ACCESS });
    if (out.command.type === 'run_step' && out.command.stepId === stepId && out.command.attempt === attempt) {
      append(d, out.events);
      return out.command;
    }
    if (step(d, policy) === 'stop') throw new Error(`run stopped before ${stepId}`);
  }
  throw new Error(`${stepId} never came`);
}

/** The first delivery: records the start, makes the call, and dies before recording the outcome. */
function dieAfterCall(d: Drive, cmd: RunStep): ExecutorCall {
  const begun = beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, { ...d.engine, access: ACCESS });
  if (begun.kind !== 'execute') throw new Error(`unexpected ${begun.kind}`);
  append(d, begun.events);
  d.world.respond(begun.call);
  return begun.call;
}

function redeliver(d: Drive, cmd: RunStep) {
  const again = beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, { ...d.engine, access: ACCESS });
  if (again.kind === 'stale') throw new Error(again.reason);
  append(d, again.events);
  return again;
}

describe('a restart interrupted before the node booted', () => {
  const unreachable: StepOutcome = {
    kind: 'measured',
    measurement: {
      ok: false,
      error: { code: 'DG_ERR_API_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true },
      evidence: { method: 'GET', path: '/api/healthz', status: null, requestId: null, latencyMs: 3 },
    },
  };

  /** The restart reached the host; the node answers healthz only `bootMs` after it. */
  function slowBoot(bootMs: number) {
    const w = new World();
    w.runtimeUp = false;
    const d = start(w, 'restart');
    const cmd = untilStep(d, 'restart_runtime');
    dieAfterCall(d, cmd);
    expect(w.hostCalls.restart_runtime).toBe(1);
    const bootedAt = d.now.getTime() + bootMs;
    const policy: Policy = {
      intercept: (call) => (call.executor === 'dg.healthz' && d.now.getTime() < bootedAt ? unreachable : undefined),
    };
    return { w, d, cmd, policy, bootedAt };
  }

  it('waits for the node to come up instead of restarting it again', () => {
    const { w, d, cmd, policy, bootedAt } = slowBoot(40_000);
    const again = redeliver(d, cmd);
    expect(again).toMatchObject({ kind: 'recheck', recheck: { executor: 'dg.healthz', judge: 'healthz.up' } });
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ stepId: 'restart_runtime', attempt: 1, next: 'recheck' }]);
    // The redelivered job makes the re-check call, then delayed re-checks follow; no restart while the node boots.
    for (let i = 0; i < 30 && d.state.steps.restart_runtime?.status !== 'passed'; i++) step(d, policy);
    expect(w.hostCalls.restart_runtime).toBe(1);
    const waits = eventsOf(d, 'step_waiting').filter((e) => e.stepId === 'restart_runtime');
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits.every((e) => e.recheck === true)).toBe(true);
    expect(waits[0]?.deadlineAt).toBe(
      new Date(Date.parse(d.state.steps.restart_runtime?.startedAt ?? '') + 300_000).toISOString(),
    );
    expect(eventsOf(d, 'step_rechecked')).toMatchObject([{ stepId: 'restart_runtime', alreadyDone: true }]);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 1, alreadyDone: true });
    expect(d.now.getTime()).toBeGreaterThanOrEqual(bootedAt);
    expect(foldRun(d.events)).toEqual(d.state);
    run(d, policy);
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(w.hostCalls.restart_runtime).toBe(1);
  });

  it('runs the restart again, as a new attempt, when the node is not up by the boot deadline', () => {
    const { w, d, cmd } = slowBoot(Number.POSITIVE_INFINITY);
    redeliver(d, cmd);
    const startedAt = Date.parse(d.state.steps.restart_runtime?.startedAt ?? '');
    const policy: Policy = {
      // The node never comes back by itself: only a second restart brings it up.
      intercept: (call) =>
        call.executor === 'dg.healthz' && w.hostCalls.restart_runtime === 1 ? unreachable : undefined,
    };
    const second = untilStep(d, 'restart_runtime', policy, 2);
    expect(second).toMatchObject({ attempt: 2, jobId: 'run-1-restart_runtime-a2-p0' });
    expect(d.now.getTime() - startedAt).toBeGreaterThanOrEqual(300_000);
    expect(w.hostCalls.restart_runtime).toBe(1);
    expect(eventsOf(d, 'step_failed').at(-1)).toMatchObject({
      stepId: 'restart_runtime',
      attempt: 1,
      transient: true,
      error: {
        code: 'not_done_after_interruption',
        message: 'the interrupted attempt 1 did not take effect within 5 min of its start: it runs again',
      },
    });
    run(d, policy);
    expect(w.hostCalls.restart_runtime).toBe(2);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 2 });
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('sends a restart webhook a crash may have cut off before it left at once, under the same key', () => {
    const w = new World();
    w.runtimeUp = false;
    w.modes.restart_runtime = 'http';
    const d = start(w, 'restart');
    d.engine = { hostActionModes: { restart_runtime: 'http' } };
    const cmd = untilStep(d, 'restart_runtime');
    // The worker recorded the start and died before the request left: the host never heard of it.
    const begun = beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, { ...d.engine, access: ACCESS });
    if (begun.kind === 'stale') throw new Error(begun.reason);
    append(d, begun.events);
    const startedAt = d.now.getTime();
    const keys: string[] = [];
    const policy: Policy = {
      intercept: (call) => {
        if (call.executor === 'host.restart_runtime') keys.push(call.idempotencyKey);
        return call.executor === 'dg.healthz' && !w.hostCalls.restart_runtime ? unreachable : undefined;
      },
    };
    for (let i = 0; i < 30 && d.state.steps.restart_runtime?.status !== 'passed'; i++) step(d, policy);
    expect(w.hostCalls.restart_runtime).toBe(1);
    expect(keys).toEqual(['run-1-restart_runtime-a1']);
    expect(eventsOf(d, 'step_waiting').filter((e) => e.recheck)).toEqual([]);
    expect(d.now.getTime() - startedAt).toBeLessThan(60_000);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 1 });
    run(d, policy);
    expect(d.state.outcome?.outcome).toBe('recovered');
    expect(w.hostCalls.restart_runtime).toBe(1);
  });

  it('decides on one reading when the bot was down longer than a boot takes', () => {
    const { w, d } = slowBoot(Number.POSITIVE_INFINITY);
    d.now = new Date(d.now.getTime() + 600_000);
    // Nothing came up in ten minutes: the restart did not happen, and it runs in the redelivered job.
    run(d, {
      intercept: (call) =>
        call.executor === 'dg.healthz' && w.hostCalls.restart_runtime === 1 ? unreachable : undefined,
    });
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ stepId: 'restart_runtime', next: 'recheck' }]);
    expect(eventsOf(d, 'step_rechecked')).toMatchObject([{ stepId: 'restart_runtime', alreadyDone: false }]);
    expect(eventsOf(d, 'step_waiting').filter((e) => e.recheck)).toEqual([]);
    expect(w.hostCalls.restart_runtime).toBe(2);
    expect(d.state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 1 });
  });
});

describe('an interrupted action the bot cannot probe', () => {
  /**
   * An event-log run with the worker dying inside `stepId`, whose host action is configured as `mode` (the others
   * as commands); `undefined`: the job layer does not say how actions are configured.
   */
  function interrupted(stepId: string, mode: HostActionMode | undefined) {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    if (mode !== undefined) w.modes[stepId] = mode;
    const d = start(w, 'event-log');
    if (mode !== undefined) {
      const others = ['stop_writes', 'preserve_database', 'list_backups', 'restore_backup', 'restart_runtime'];
      d.engine = { hostActionModes: { ...Object.fromEntries(others.map((a) => [a, 'command'])), [stepId]: mode } };
    }
    const cmd = untilStep(d, stepId);
    const firstCall = dieAfterCall(d, cmd);
    return { w, d, cmd, firstCall };
  }

  it('records how a command action was configured and puts its interruption to people, recommending nothing', () => {
    const { w, d, cmd, firstCall } = interrupted('stop_writes', 'command');
    expect(eventsOf(d, 'step_started').find((e) => e.stepId === 'stop_writes')).toMatchObject({
      actionMode: 'command',
    });
    // The first delivery's call said so too.
    expect(firstCall).toMatchObject({ executor: 'host.stop_writes', risk: 'destructive', actionMode: 'command' });
    expect(w.hostCalls.stop_writes).toBe(1);
    const again = redeliver(d, cmd);
    expect(again).toMatchObject({ kind: 'ask', stepId: 'stop_writes', attempt: 1 });
    expect(again.events.map((e) => e.type)).toEqual(['step_interrupted', 'decision_requested']);
    expect(eventsOf(d, 'step_interrupted')[0]).toMatchObject({ actionMode: 'command', next: 'ask' });
    const asked = eventsOf(d, 'decision_requested').at(-1);
    expect(asked).toMatchObject({ stepId: 'stop_writes', item: { id: 'a1', label: 'attempt 1, interrupted' } });
    expect(asked?.prompt).toContain('The bot stopped while running Stop writes (stop_writes, attempt 1, started ');
    expect(asked?.prompt).toContain(
      'it is unknown whether it finished. Check whether every writer is stopped: the integrations and clients',
    );
    expect(asked?.options.map((o) => o.id)).toEqual(['done', 'run_again', 'abort']);
    expect(asked?.options.some((o) => o.recommended)).toBe(false);
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toMatchObject({
      type: 'await_decision',
      stepId: 'stop_writes',
      item: { id: 'a1' },
    });
    // The job that asked is not wanted again, and nothing ran twice.
    expect(beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, { access: ACCESS }).kind).toBe('stale');
    expect(w.hostCalls.stop_writes).toBe(1);
  });

  it('goes on from the next step when a person reports it finished, with what they checked', () => {
    const { w, d, cmd } = interrupted('stop_writes', 'command');
    redeliver(d, cmd);
    const noReason = applyDecision(
      d.state,
      d.scenario,
      { stepId: 'stop_writes', itemId: 'a1', optionId: INTERRUPTION_OPTIONS.done, by: STARTER },
      ACCESS,
      d.now,
    );
    expect(noReason).toMatchObject({ ok: false, refusal: { code: 'reason_required' } });
    const done = applyDecision(
      d.state,
      d.scenario,
      {
        stepId: 'stop_writes',
        itemId: 'a1',
        optionId: INTERRUPTION_OPTIONS.done,
        by: STARTER,
        reason: 'load balancer shows maintenance',
      },
      ACCESS,
      d.now,
    );
    if (!done.ok) throw new Error(done.refusal.message);
    append(d, done.events);
    const next = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    append(d, next.events);
    expect(d.state.steps.stop_writes).toMatchObject({
      status: 'passed',
      attempt: 1,
      outputs: { markedDone: true, markedDoneBy: STARTER.id, note: 'load balancer shows maintenance' },
    });
    expect(next.command).toMatchObject({ type: 'await_approval', stepId: 'approve_preserve' });
    expect(w.hostCalls.stop_writes).toBe(1);
    expect(foldRun(d.events)).toEqual(d.state);
  });

  it('runs a destructive action again only when an approver other than the starter says so', () => {
    const { w, d, cmd } = interrupted('stop_writes', 'command');
    redeliver(d, cmd);
    const input = { stepId: 'stop_writes', itemId: 'a1', optionId: INTERRUPTION_OPTIONS.runAgain };
    expect(applyDecision(d.state, d.scenario, { ...input, by: STARTER }, ACCESS, d.now)).toMatchObject({
      ok: false,
      refusal: { code: 'not_approver' },
    });
    const ok = applyDecision(d.state, d.scenario, { ...input, by: APPROVER }, ACCESS, d.now);
    if (!ok.ok) throw new Error(ok.refusal.message);
    append(d, ok.events);
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toMatchObject({
      type: 'run_step',
      stepId: 'stop_writes',
      attempt: 2,
      jobId: 'run-1-stop_writes-a2-p0',
    });
    step(d);
    expect(w.hostCalls.stop_writes).toBe(2);
    expect(d.state.steps.stop_writes).toMatchObject({ status: 'passed', attempt: 2 });
  });

  it('ends the run when a person aborts', () => {
    const { d, cmd } = interrupted('restore_backup', 'command');
    redeliver(d, cmd);
    const abort = applyDecision(
      d.state,
      d.scenario,
      { stepId: 'restore_backup', itemId: 'a1', optionId: INTERRUPTION_OPTIONS.abort, by: STARTER },
      ACCESS,
      d.now,
    );
    if (!abort.ok) throw new Error(abort.refusal.message);
    append(d, abort.events);
    const out = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    append(d, out.events);
    expect(out.command).toMatchObject({ type: 'finished', outcome: 'aborted' });
    expect(eventsOf(d, 'run_aborted')).toMatchObject([
      { by: STARTER, stepId: 'restore_backup', reason: 'Abort the run' },
    ]);
  });

  it('asks as well when how the action was configured is not known', () => {
    const { d, cmd } = interrupted('preserve_database', undefined);
    expect(eventsOf(d, 'step_started').find((e) => e.stepId === 'preserve_database')?.actionMode).toBeUndefined();
    const again = redeliver(d, cmd);
    expect(again.kind).toBe('ask');
    expect(eventsOf(d, 'step_interrupted')[0]?.detail).toContain('How it was configured is not recorded');
    expect(eventsOf(d, 'decision_requested').at(-1)?.prompt).toContain(
      'Check whether the copy of the broken database exists and is complete',
    );
  });

  it('sends a webhook that is not destructive again under the same Idempotency-Key', () => {
    const { w, d, cmd } = interrupted('restart_runtime', 'http');
    const first = d.events.filter((e) => e.type === 'step_started' && e.stepId === 'restart_runtime');
    expect(first).toMatchObject([{ actionMode: 'http' }]);
    const again = redeliver(d, cmd);
    if (again.kind !== 'execute') throw new Error(again.kind);
    expect(again.call).toMatchObject({
      executor: 'host.restart_runtime',
      idempotencyKey: 'run-1-restart_runtime-a1',
      actionMode: 'http',
    });
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ next: 'repeat', actionMode: 'http' }]);
    expect(eventsOf(d, 'step_interrupted')[0]?.detail).toContain('sent again under the same Idempotency-Key');
    expect(w.hostCalls.restart_runtime).toBe(1);
  });

  it('puts an interrupted destructive webhook to people instead of sending it again', () => {
    const { w, d, cmd } = interrupted('preserve_database', 'http');
    const again = redeliver(d, cmd);
    expect(again).toMatchObject({ kind: 'ask', stepId: 'preserve_database', attempt: 1 });
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ next: 'ask', actionMode: 'http' }]);
    expect(eventsOf(d, 'step_interrupted')[0]?.detail).toContain('destructive webhook');
    expect(
      eventsOf(d, 'decision_requested')
        .at(-1)
        ?.options.map((o) => o.id),
    ).toEqual([INTERRUPTION_OPTIONS.done, INTERRUPTION_OPTIONS.runAgain, INTERRUPTION_OPTIONS.abort]);
    expect(w.hostCalls.preserve_database).toBe(1);
  });

  it('shows a manual action again: the bot had done nothing yet', () => {
    const { d, cmd } = interrupted('restore_backup', 'manual');
    const again = redeliver(d, cmd);
    expect(again.kind).toBe('execute');
    expect(eventsOf(d, 'step_interrupted')).toMatchObject([{ next: 'repeat', actionMode: 'manual' }]);
    // The job goes on: the person is shown what to do and asked to confirm it.
    step(d, { manual: () => 'stop' });
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toMatchObject({
      type: 'await_manual',
      stepId: 'restore_backup',
    });
    expect(d.world.hostCalls.restore_backup).toBeUndefined();
  });

  it('records an interruption once per attempt, however often the job is taken over', () => {
    const { d, cmd } = interrupted('restart_runtime', 'http');
    redeliver(d, cmd);
    redeliver(d, cmd);
    expect(eventsOf(d, 'step_interrupted')).toHaveLength(1);
  });

  it('leaves read-only steps alone: they are simply measured again', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = start(w, 'event-log');
    const cmd = untilStep(d, 'gather_integrity');
    dieAfterCall(d, cmd);
    expect(redeliver(d, cmd)).toMatchObject({ kind: 'execute', events: [] });
  });
});

describe('which calls are repeatable (their start may be recorded with their outcome)', () => {
  const faults: Record<string, () => World> = {
    restart: () => Object.assign(new World(), { runtimeUp: false }),
    postgres: () => Object.assign(new World(), { postgresUp: false, connected: false }),
    projections: () => {
      const w = new World();
      w.cursors.trace_summary = 2150;
      w.failures.trace_summary = 1;
      return w;
    },
    'event-log': () => Object.assign(new World(), { integrity: { payload_hash_drift: 2, trace_seq_step: 1 } }),
    upgrade: () => Object.assign(new World(), { smokeFailing: ['projection_health', 'trace_read'] }),
  };

  // The calls that change the world: host actions other than listing backups, starting a replay, manual steps.
  const changesTheWorld = (executor: string) =>
    (executor.startsWith('host.') && executor !== 'host.list_backups') ||
    executor === 'dg.replay_start' ||
    executor === 'manual';

  it('every probe, gate, read and approval re-measurement is; no host action, replay start or manual step is', () => {
    const seen = new Map<string, boolean>();
    for (const [name, fault] of Object.entries(faults)) {
      const params: Record<string, string> = { traceId: 'trace-demo', previousRelease: 'v1.4.2' };
      const d = start(fault(), name as 'restart', params);
      run(d, {
        intercept: (call, stepId) => {
          // The job's begin, on the state before it appended the attempt's start.
          const startedAt = d.events.findLastIndex((e) => e.type === 'step_started' && e.stepId === stepId);
          const before = foldRun(d.events.slice(0, startedAt));
          const jobId = d.jobs.at(-1) as string;
          const begun = beginStep(before, d.scenario, { jobId }, d.now, { ...d.engine, access: ACCESS });
          if (begun.kind === 'execute') seen.set(`${name}/${stepId}/${call.executor}`, begun.repeatable);
          return undefined;
        },
      });
      expect(d.state.outcome?.outcome, name).toBe('recovered');
    }
    const worldChanging = [...seen].filter(([key]) => changesTheWorld(key.split('/')[2] as string));
    const others = [...seen].filter(([key]) => !changesTheWorld(key.split('/')[2] as string));
    expect(worldChanging.length).toBeGreaterThan(8);
    expect(others.length).toBeGreaterThan(30);
    expect(worldChanging.filter(([, repeatable]) => repeatable)).toEqual([]);
    expect(others.filter(([, repeatable]) => !repeatable)).toEqual([]);
  });
});
