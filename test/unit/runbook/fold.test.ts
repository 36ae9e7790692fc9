import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  foldRun,
  getScenario,
  parseRunEvent,
  parseRunLog,
  type RunEvent,
  RunEventSchema,
  RunLogInvalidError,
  RunLogOutOfOrderError,
  type RunState,
  reduce,
} from '../../../src/runbook/index.js';
import { ownReplayJobIds } from '../../../src/runbook/scenario-lookup.js';

// Arbitrary, schema-valid run logs: a run_started, any mix of the other event types on a few steps, maybe a finish.

const stepIds = fc.constantFrom('check_healthz', 'restart_runtime', 'choose', 'approve', 'gate');
const actor = fc.record({
  id: fc.constantFrom('U1', 'U2', 'U3'),
  via: fc.constantFrom('slack' as const, 'cli' as const),
});
const iso = fc
  .integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') })
  .map((ms) => new Date(ms).toISOString());
const text = fc.string({ maxLength: 40 });
const evidenceItem = fc.record({
  label: fc.string({ minLength: 1, maxLength: 20 }),
  measured: fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant(null)),
  source: fc.record({ kind: fc.constantFrom('http' as const, 'sql' as const, 'host' as const, 'engine' as const) }),
});
const evidence = fc.array(evidenceItem, { maxLength: 3 });
const attempt = fc.integer({ min: 1, max: 4 });
const option = fc.record({
  id: fc.constantFrom('a', 'b', 'abort'),
  label: fc.constant('Option'),
  effect: fc.constantFrom('continue', 'abort'),
});
const outputs = fc.dictionary(
  fc.constantFrom('state', 'jobId', 'count'),
  fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
);

type Body = Record<string, unknown> & { type: string };

const actionMode = fc.constantFrom('manual' as const, 'command' as const, 'http' as const);

const middleBody: fc.Arbitrary<Body> = fc.oneof(
  fc.record({ type: fc.constant('step_started'), stepId: stepIds, attempt }),
  fc.record({ type: fc.constant('step_started'), stepId: stepIds, attempt, actionMode }),
  fc.record({
    type: fc.constant('step_interrupted'),
    stepId: stepIds,
    attempt,
    actionMode,
    next: fc.constantFrom('recheck' as const, 'repeat' as const, 'ask' as const),
    detail: text,
  }),
  fc.record({
    type: fc.constant('step_waiting'),
    stepId: stepIds,
    attempt,
    poll: fc.integer({ min: 1, max: 9 }),
    nextCheckAt: iso,
    recheck: fc.constant(true as const),
    outputs,
    evidence,
  }),
  fc.record({
    type: fc.constant('approval_expired'),
    stepId: stepIds,
    round: attempt,
    approvers: fc.option(fc.array(fc.constantFrom('U1', 'S9'), { maxLength: 2 }), { nil: null }),
    timeoutMs: fc.constantFrom(60_000, 3_600_000),
    requestedAt: iso,
  }),
  fc.record({ type: fc.constant('step_rechecked'), stepId: stepIds, attempt, alreadyDone: fc.boolean(), evidence }),
  fc.record({
    type: fc.constant('step_waiting'),
    stepId: stepIds,
    attempt,
    poll: fc.integer({ min: 1, max: 9 }),
    nextCheckAt: iso,
    outputs,
    evidence,
  }),
  fc.record({ type: fc.constant('step_passed'), stepId: stepIds, attempt, outputs, evidence }),
  fc.record({
    type: fc.constant('step_failed'),
    stepId: stepIds,
    attempt,
    error: fc.record({ code: fc.constantFrom('deadline_exceeded', 'DG_ERR_API_TIMEOUT'), message: text }),
    transient: fc.boolean(),
    evidence,
  }),
  fc.record({
    type: fc.constant('step_skipped'),
    stepId: stepIds,
    by: fc.option(actor, { nil: null }),
    reason: text,
    cause: fc.constantFrom('condition' as const, 'decision' as const, 'operator' as const, 'guard' as const),
  }),
  fc.record({
    type: fc.constant('decision_requested'),
    stepId: stepIds,
    prompt: text,
    options: fc.array(option, { minLength: 1, maxLength: 3 }),
    evidence,
  }),
  fc.record({ type: fc.constant('decision_made'), stepId: stepIds, optionId: fc.constantFrom('a', 'b'), by: actor }),
  fc.record({
    type: fc.constant('approval_requested'),
    stepId: stepIds,
    round: attempt,
    guards: stepIds,
    prompt: text,
    approvers: fc.option(fc.array(fc.constantFrom('U2', 'S0OPS')), { nil: null }),
    excluded: fc.array(fc.constantFrom('U1')),
    fingerprint: fc.constantFrom('fp-1', 'fp-2'),
    evidence,
  }),
  fc.record({
    type: fc.constant('approval_granted'),
    stepId: stepIds,
    round: attempt,
    by: actor,
    fingerprint: fc.constantFrom('fp-1', 'fp-2'),
  }),
  fc.record({
    type: fc.constant('approval_voided'),
    stepId: stepIds,
    round: attempt,
    reason: text,
    seenFingerprint: fc.constant('fp-1'),
    currentFingerprint: fc.constant('fp-2'),
    evidence,
  }),
  fc.record({ type: fc.constant('manual_action_requested'), stepId: stepIds, attempt, instructions: text, evidence }),
  fc.record({ type: fc.constant('manual_action_done'), stepId: stepIds, attempt, by: actor }),
  fc.record({
    type: fc.constant('run_paused'),
    reason: text,
    stepId: stepIds,
    options: fc.constant(['retry', 'skip', 'abort']),
  }),
  fc.record({
    type: fc.constant('run_resumed'),
    by: actor,
    action: fc.constantFrom('retry' as const, 'skip' as const),
    stepId: stepIds,
  }),
  fc.record({ type: fc.constant('run_aborted'), by: actor, reason: text }),
);

const finish: fc.Arbitrary<Body> = fc.record({
  type: fc.constant('run_finished'),
  outcome: fc.constantFrom('recovered' as const, 'failed' as const, 'aborted' as const, 'switched' as const),
});

const runLog: fc.Arbitrary<RunEvent[]> = fc
  .tuple(fc.array(middleBody, { maxLength: 40 }), fc.option(finish, { nil: undefined }), iso)
  .map(([middle, end, at]) => {
    const bodies: Body[] = [
      {
        type: 'run_started',
        scenario: 'restart',
        scenarioVersion: 1,
        tenantId: 'default',
        startedBy: { id: 'U1', via: 'slack' },
        params: { traceId: 'trace-demo' },
      },
      ...middle,
      ...(end ? [end] : []),
    ];
    return bodies.map((b, i) => ({ ...b, runId: 'run-7', seq: i + 1, at }) as unknown as RunEvent);
  });

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('the run-log fold', () => {
  it('folds any valid event sequence without throwing', () => {
    fc.assert(
      fc.property(runLog, (events) => {
        for (const e of events) expect(RunEventSchema.safeParse(e).success).toBe(true);
        const state = foldRun(events);
        expect(state.lastSeq).toBe(events.length);
        expect(state.status === 'finished').toBe(events.at(-1)?.type === 'run_finished');
        if (state.status === 'finished') {
          expect(state.pendingDecision).toBeNull();
          expect(state.pause).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a gap or a swap in the sequence numbers with a typed error', () => {
    fc.assert(
      fc.property(
        runLog.filter((e) => e.length >= 3),
        fc.nat(),
        fc.boolean(),
        (events, pick, swap) => {
          const i = 1 + (pick % (events.length - 2));
          const broken = [...events];
          if (swap) [broken[i], broken[i + 1]] = [broken[i + 1] as RunEvent, broken[i] as RunEvent];
          else broken.splice(i, 1);
          let caught: unknown;
          try {
            foldRun(broken);
          } catch (err) {
            caught = err;
          }
          expect(caught).toBeInstanceOf(RunLogOutOfOrderError);
          expect((caught as RunLogOutOfOrderError).code).toBe('DG_ERR_RUN_LOG_OUT_OF_ORDER');
          expect((caught as RunLogOutOfOrderError).expectedSeq).toBe(i + 1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never changes the state it is given, and folding in pieces equals folding at once', () => {
    fc.assert(
      fc.property(runLog, fc.nat(), (events, cut) => {
        const k = 1 + (cut % events.length);
        const prefix = deepFreeze(foldRun(events.slice(0, k)));
        let state: RunState = prefix;
        for (const e of events.slice(k)) state = reduce(state, e);
        expect(state).toEqual(foldRun(events));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a log that does not start with run_started, another run, a second start, and events after the finish', () => {
    fc.assert(
      fc.property(runLog, (events) => {
        const first = events[0] as RunEvent;
        expect(() => foldRun(events.slice(1).map((e, i) => ({ ...e, seq: i + 1 }) as RunEvent))).toThrow(
          RunLogInvalidError,
        );
        const state = foldRun([first]);
        expect(() => reduce(state, { ...first, seq: 2 })).toThrow(RunLogInvalidError);
        expect(() => reduce(state, { ...(events[1] ?? first), runId: 'run-8', seq: 2 } as RunEvent)).toThrow(
          RunLogInvalidError,
        );
      }),
      { numRuns: 50 },
    );
    const finished = foldRun([
      {
        type: 'run_started',
        runId: 'r-1',
        seq: 1,
        at: '2026-03-07T12:00:00.000Z',
        scenario: 'restart',
        scenarioVersion: 1,
        tenantId: 'default',
        startedBy: { id: 'U1', via: 'cli' },
        params: {},
      },
      { type: 'run_finished', runId: 'r-1', seq: 2, at: '2026-03-07T12:00:01.000Z', outcome: 'aborted' },
    ]);
    let caught: unknown;
    try {
      reduce(finished, {
        type: 'run_paused',
        runId: 'r-1',
        seq: 3,
        at: '2026-03-07T12:00:02.000Z',
        reason: 'x',
        options: [],
      });
    } catch (err) {
      caught = err;
    }
    expect((caught as RunLogInvalidError).code).toBe('DG_ERR_RUN_LOG_INVALID');
  });

  it('derives the run status from what is pending', () => {
    const at = '2026-03-07T12:00:00.000Z';
    const base = { runId: 'r-2', at };
    let s = foldRun([
      {
        ...base,
        seq: 1,
        type: 'run_started',
        scenario: 'restart',
        scenarioVersion: 1,
        tenantId: 'default',
        startedBy: { id: 'U1', via: 'cli' },
        params: {},
      },
    ]);
    expect(s.status).toBe('running');
    s = reduce(s, {
      ...base,
      seq: 2,
      type: 'decision_requested',
      stepId: 'choose',
      prompt: 'p',
      options: [{ id: 'a', label: 'A', effect: 'continue' }],
      evidence: [],
    });
    expect(s.status).toBe('waiting_decision');
    s = reduce(s, {
      ...base,
      seq: 3,
      type: 'decision_made',
      stepId: 'choose',
      optionId: 'a',
      by: { id: 'U1', via: 'cli' },
    });
    expect(s.status).toBe('running');
    expect(s.decisions[0]).toMatchObject({ optionId: 'a', option: { label: 'A' } });
    s = reduce(s, {
      ...base,
      seq: 4,
      type: 'approval_requested',
      stepId: 'approve',
      round: 1,
      guards: 'x',
      prompt: 'p',
      approvers: null,
      excluded: ['U1'],
      fingerprint: 'fp-1',
      evidence: [],
    });
    expect(s.status).toBe('waiting_approval');
    s = reduce(s, {
      ...base,
      seq: 5,
      type: 'approval_granted',
      stepId: 'approve',
      round: 1,
      by: { id: 'U2', via: 'slack' },
      fingerprint: 'fp-1',
    });
    expect(s.status).toBe('running');
    expect(s.steps.approve?.status).toBe('approved');
    s = reduce(s, {
      ...base,
      seq: 6,
      type: 'run_paused',
      reason: 'r',
      stepId: 'approve',
      options: ['retry', 'skip', 'abort'],
    });
    expect(s.status).toBe('paused');
  });

  it("keeps every replay a step started as the run's own, across the step's attempts", () => {
    const at = '2026-03-07T12:00:00.000Z';
    const base = { runId: 'r-3', at, stepId: 'smoke_after' };
    const smoke = (jobs: string[]) => ({ allPassed: false, startedReplayJobIds: jobs });
    const s = foldRun([
      {
        runId: 'r-3',
        at,
        seq: 1,
        type: 'run_started',
        scenario: 'upgrade',
        scenarioVersion: 1,
        tenantId: 'default',
        startedBy: { id: 'U1', via: 'cli' },
        params: {},
      },
      { ...base, seq: 2, type: 'step_started', attempt: 1 },
      {
        ...base,
        seq: 3,
        type: 'step_failed',
        attempt: 1,
        error: { code: 'smoke_failed', message: 'm' },
        transient: false,
        outputs: smoke(['replay-41']),
        evidence: [],
      },
      { ...base, seq: 4, type: 'step_started', attempt: 2 },
      { ...base, seq: 5, type: 'step_passed', attempt: 2, outputs: smoke(['replay-42', 'replay-41']), evidence: [] },
    ]);
    expect(s.startedReplayJobIds).toEqual(['replay-41', 'replay-42']);
    expect(ownReplayJobIds(s, getScenario('upgrade'))).toEqual(['replay-41', 'replay-42']);
  });
});

describe('parsing events at the boundary', () => {
  it('accepts what the engine writes and refuses malformed events with a typed error', () => {
    const good = {
      type: 'step_passed',
      runId: 'r-1',
      seq: 2,
      at: '2026-03-07T12:00:00.000Z',
      stepId: 'gate',
      attempt: 1,
      outputs: { healthy: true },
      evidence: [
        {
          label: 'healthz',
          measured: 200,
          expected: 200,
          ok: true,
          source: { kind: 'http', method: 'GET', path: '/api/healthz', status: 200 },
        },
      ],
    };
    expect(parseRunEvent(good)).toEqual(good);
    expect(parseRunLog([good])).toHaveLength(1);
    for (const bad of [
      { ...good, type: 'step_exploded' },
      { ...good, seq: 0 },
      { ...good, at: 'yesterday' },
      { ...good, stepId: 'Bad:Id' },
      { ...good, evidence: [{ label: '', measured: 1, source: { kind: 'http' } }] },
      { ...good, outputs: { n: Number.NaN } },
    ]) {
      let caught: unknown;
      try {
        parseRunEvent(bad);
      } catch (err) {
        caught = err;
      }
      expect((caught as RunLogInvalidError).code).toBe('DG_ERR_RUN_LOG_INVALID');
    }
  });
});
