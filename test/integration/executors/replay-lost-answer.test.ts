import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeStep } from '../../../src/executors/registry/index.js';
import { findRequestedRun } from '../../../src/executors/registry/replay-lookup.js';
import type { ReplayStartMeasurement } from '../../../src/runbook/measurements.js';
import { type Harness, judge, pollUntilSettled, startHarness } from './fixtures.js';

// A replay admitted by DecisionGraph whose 202 never reached the bot: before anything is sent again, the run the
// request created is looked for by the request key the bot put in its metadata.

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ faults: ['projections-behind', 'replay-answer-lost'] });
});

afterAll(async () => {
  await h?.close();
});

const REQUEST = { mode: 'catch_up', projection: 'all', reason: 'projections behind after a restart' };

describe('a replay request sent whose answer was lost', () => {
  it('finds the run it created, open or finished, and the judge follows it instead of asking again', async () => {
    const key = 'run-lost-1-start_catch_up-a1';
    const ctx = h.factory.forStep({ runId: 'run-lost-1', idempotencyKey: key });
    const m = (await executeStep('dg.replay_start', REQUEST, ctx)) as ReplayStartMeasurement;
    expect(m.result).toMatchObject({ ok: false, error: { code: 'DG_ERR_API_CONNECTION_RESET' } });
    expect(m.lookup).toMatchObject({ requestKey: key, found: { mode: 'catch_up', projection_name: 'all' } });
    const jobId = m.lookup?.found?.job_id as string;
    const verdict = judge('dg.replay_start', m, { params: REQUEST });
    expect(verdict).toMatchObject({ result: 'passed', outputs: { jobId, attached: true } });
    expect(JSON.stringify(verdict)).toContain('sent; no answer');

    // Once the run has finished it is no longer open; DecisionGraph's run table still names it.
    const done = await pollUntilSettled(h, 'dg.replay_poll', { jobId }, { timeoutMs: 15_000 });
    expect(done.verdict.result).toBe('passed');
    const later = await findRequestedRun(ctx, REQUEST, key);
    expect(later.found).toMatchObject({ job_id: jobId, status: 'completed' });
  });

  it('finds nothing for a request that created no run: the outcome stays unknown, nothing is attached', async () => {
    const ctx = h.factory.forStep({ runId: 'run-lost-2', idempotencyKey: 'run-lost-2-start_catch_up-a1' });
    const lookup = await findRequestedRun(ctx, REQUEST, 'run-lost-2-start_catch_up-a1');
    expect(lookup).toMatchObject({ found: null });
    const verdict = judge(
      'dg.replay_start',
      {
        request: REQUEST,
        result: {
          ok: false,
          error: { code: 'DG_ERR_API_CONNECTION_RESET', message: 'connection closed', transient: true },
          evidence: { method: 'POST', path: '/api/v1/admin/replays', status: null, requestId: null, latencyMs: 5 },
        },
        lookup,
      } as ReplayStartMeasurement,
      { params: REQUEST },
    );
    expect(verdict).toMatchObject({ result: 'failed', outcomeUnknown: true, error: { code: 'replay_answer_lost' } });
    expect(JSON.stringify(verdict)).not.toContain('was not admitted');
  });
});
