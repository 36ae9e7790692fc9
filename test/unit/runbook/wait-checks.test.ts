import { describe, expect, it } from 'vitest';
import type { ExecutorCall, HealthzBody, StepOutcome } from '../../../src/runbook/index.js';
import { MAX_BAD_ANSWERS_IN_A_ROW } from '../../../src/runbook/wait-checks.js';
import { eventsOf, run, start } from './driver.js';
import { failed, type TRACE, trace409 } from './fixtures.js';
import { World } from './world.js';

// One policy for the checks of a wait that got no usable reading: a 500 and a malformed answer both count as
// unsatisfied checks, and either kind, five times in a row, ends the wait for a person to look, long before the
// deadline. Measurements are shaped as the DecisionGraph client returns them (contract §2, §3.4).

const TRACE_PATH = '/api/v1/traces/trace-demo';

/** 500 internal_error with DecisionGraph's envelope: what a read answers while its database fails. */
const internalError = () =>
  failed<typeof TRACE>('DG_ERR_API_INTERNAL', 500, {
    dgCode: 'internal_error',
    dgMessage: 'Internal server error',
    path: TRACE_PATH,
  });

/** A 200 whose body misses `summary`: the client's contract check refuses it (not transient). */
const malformed = () =>
  failed<typeof TRACE>('DG_ERR_CONTRACT_VIOLATION', 200, {
    message: 'GET /api/v1/traces/:trace_id: status 200 response violates the contract at summary (Required)',
    transient: false,
    path: TRACE_PATH,
  });

/** The restart scenario with the node down, and the trace reads answered from `answers` while any are left. */
function restartWithTraceAnswers(answers: Array<() => ReturnType<typeof failed<typeof TRACE>>>) {
  const w = new World();
  w.runtimeUp = false;
  const queue = [...answers];
  const intercept = (call: ExecutorCall): StepOutcome | undefined => {
    if (call.executor !== 'dg.trace_read') return undefined;
    const next = queue.shift();
    return next === undefined ? undefined : { kind: 'measured', measurement: next() };
  };
  return run(start(w, 'restart'), { intercept });
}

const readTraceWaits = (d: ReturnType<typeof run>) =>
  eventsOf(d, 'step_waiting').filter((e) => e.stepId === 'read_trace');
const readTraceFailures = (d: ReturnType<typeof run>) =>
  eventsOf(d, 'step_failed').filter((e) => e.stepId === 'read_trace');

describe('checks of a wait without a usable reading', () => {
  it('counts a malformed answer as one more unsatisfied check, and the run recovers once reads are good', () => {
    const d = restartWithTraceAnswers([malformed, malformed]);
    expect(readTraceFailures(d)).toHaveLength(0);
    const waits = readTraceWaits(d);
    expect(waits.map((e) => e.badAnswers)).toEqual([1, 2]);
    expect(waits[0]?.evidence[0]).toMatchObject({ detail: expect.stringContaining('DG_ERR_CONTRACT_VIOLATION') });
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('counts a 500 the same way', () => {
    const d = restartWithTraceAnswers([internalError, internalError]);
    expect(readTraceFailures(d)).toHaveLength(0);
    expect(readTraceWaits(d).map((e) => e.badAnswers)).toEqual([1, 2]);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it.each([
    ['500s', internalError, 'DG_ERR_API_INTERNAL'],
    ['malformed answers', malformed, 'DG_ERR_CONTRACT_VIOLATION'],
  ])('ends the wait after %s five times in a row, with the evidence, long before the deadline', (_, answer, code) => {
    const d = restartWithTraceAnswers(Array.from({ length: 20 }, () => answer));
    const failures = readTraceFailures(d);
    expect(failures).toHaveLength(1);
    const failure = failures[0];
    expect(failure?.error.code).toBe(code);
    expect(failure?.error.message).toMatch(/^DecisionGraph answered the last 5 checks in a row with an error/);
    expect(failure?.transient).toBe(false);
    expect(failure?.evidence.at(-1)).toMatchObject({ label: 'bad answers in a row', measured: 5, ok: false });
    expect(readTraceWaits(d)).toHaveLength(MAX_BAD_ANSWERS_IN_A_ROW - 1);
    // The wait's deadline is 3 minutes; five checks with backoff take well under one.
    const started = eventsOf(d, 'step_started').find((e) => e.stepId === 'read_trace');
    expect(Date.parse(failure?.at ?? '') - Date.parse(started?.at ?? '')).toBeLessThan(60_000);
    // The run pauses for a person: Retry, Skip, Abort.
    expect(d.state.status).toBe('paused');
    expect(eventsOf(d, 'run_paused').at(-1)).toMatchObject({ stepId: 'read_trace' });
  });

  it('starts counting again after a check that got a real reading', () => {
    const bad = Array.from({ length: MAX_BAD_ANSWERS_IN_A_ROW - 1 }, () => internalError);
    const d = restartWithTraceAnswers([...bad, () => trace409(), ...bad]);
    expect(readTraceFailures(d)).toHaveLength(0);
    expect(readTraceWaits(d).map((e) => e.badAnswers)).toEqual([1, 2, 3, 4, undefined, 1, 2, 3, 4]);
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('still fails a wait at once on an answer waiting cannot change (401, the token refused)', () => {
    const refused = () =>
      failed<typeof TRACE>('DG_ERR_API_UNAUTHORIZED', 401, { dgCode: 'unauthorized', path: TRACE_PATH });
    const d = restartWithTraceAnswers([refused]);
    expect(readTraceWaits(d)).toHaveLength(0);
    expect(readTraceFailures(d)[0]?.error.code).toBe('DG_ERR_API_UNAUTHORIZED');
  });
});

describe('the healthz waits follow the same policy', () => {
  it('end after five malformed healthz answers in a row instead of waiting out the 5-minute boot deadline', () => {
    const w = new World();
    w.runtimeUp = false;
    let healthzCalls = 0;
    const d = run(start(w, 'restart'), {
      intercept: (call) => {
        // The symptom check reads the node down; every healthz after the restart answers a body without `store`.
        if (call.executor !== 'dg.healthz' || ++healthzCalls === 1) return undefined;
        const answer = failed<HealthzBody>('DG_ERR_CONTRACT_VIOLATION', 200, {
          message: 'GET /api/healthz: status 200 response violates the contract at store (Required)',
          transient: false,
          path: '/api/healthz',
        });
        return { kind: 'measured', measurement: answer };
      },
    });
    const waits = eventsOf(d, 'step_waiting').filter((e) => e.stepId === 'wait_healthz');
    expect(waits.map((e) => e.badAnswers)).toEqual([1, 2, 3, 4]);
    const failure = eventsOf(d, 'step_failed').find((e) => e.stepId === 'wait_healthz');
    expect(failure?.error.code).toBe('DG_ERR_CONTRACT_VIOLATION');
    const started = eventsOf(d, 'step_started').find((e) => e.stepId === 'wait_healthz');
    expect(Date.parse(failure?.at ?? '') - Date.parse(started?.at ?? '')).toBeLessThan(60_000);
    expect(d.state.status).toBe('paused');
  });
});
