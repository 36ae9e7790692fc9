import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import { createExecutorContext, executeStep } from '../../../src/executors/registry/index.js';
import type { Verdict } from '../../../src/runbook/judges/index.js';
import type {
  ChecklistMeasurement,
  HealthzMeasurement,
  ReplayStartMeasurement,
  TraceReadMeasurement,
} from '../../../src/runbook/measurements.js';
import { MAX_BAD_ANSWERS_IN_A_ROW, readFailedWaitCheck } from '../../../src/runbook/wait-checks.js';
import {
  configFor,
  failingConditions,
  type Harness,
  judge,
  pollUntilSettled,
  silentLogger,
  startHarness,
  step,
} from './fixtures.js';

let h: Harness;

beforeAll(async () => {
  // Batches pause long enough for a second admission to find the first run still going.
  h = await startHarness({ replayBatchDelayMs: 400 });
});

afterAll(async () => {
  await h?.close();
});

function failed(v: Verdict) {
  if (v.result !== 'failed') throw new Error(`expected failed, got ${JSON.stringify(v)}`);
  return v;
}

describe('DecisionGraph faults become measurements, never exceptions', () => {
  it('node down: healthz is a transient unreachable failure; the stop is seen, reads fail transiently', async () => {
    await h.sim.inject('node-down');
    try {
      const hz = (await executeStep('dg.healthz', {}, h.ctx())) as HealthzMeasurement;
      expect(hz.ok).toBe(false);
      if (hz.ok) return;
      expect(hz.error).toMatchObject({ code: 'DG_ERR_API_UNREACHABLE', transient: true });
      expect(hz.evidence.status).toBeNull();
      expect(judge('dg.healthz', hz).result).toBe('waiting');
      expect(judge('dg.healthz', hz, { judge: 'healthz.down' }).result).toBe('passed');

      const trace = await step(h, 'dg.trace_read');
      expect(failed(trace.verdict)).toMatchObject({ transient: true, error: { code: 'DG_ERR_API_UNREACHABLE' } });

      const smoke = await step(h, 'smoke.checks');
      expect(failed(smoke.verdict).outputs).toMatchObject({ passing: [] });
    } finally {
      await h.sim.clear('node-down');
    }
    expect((await step(h, 'dg.healthz')).verdict.result).toBe('passed');
  });

  it('projections behind: trace and graph reads are 409 projection_out_of_date until a catch_up', async () => {
    await h.sim.inject('projections-behind');
    const trace = (await executeStep('dg.trace_read', {}, h.ctx())) as TraceReadMeasurement;
    expect(trace).toMatchObject({
      ok: false,
      error: { code: 'DG_ERR_API_PROJECTION_OUT_OF_DATE', dgCode: 'projection_out_of_date', transient: true },
      evidence: { status: 409 },
    });
    expect(judge('dg.trace_read', trace).result).toBe('waiting');
    const status = judge('dg.trace_read', trace, { judge: 'trace.status' });
    expect(status).toMatchObject({ result: 'passed', outputs: { trace: 'projections_behind' } });
    expect((await step(h, 'dg.graph_read')).verdict).toMatchObject({
      result: 'waiting',
      outputs: { graph: 'projections_behind' },
    });
    expect((await step(h, 'dg.projection_health')).verdict).toMatchObject({
      result: 'passed',
      outputs: { state: 'behind' },
    });
    const gate = await step(
      h,
      'gate.checklist',
      { workflowId: h.sim.known.workflowId ?? '' },
      { ctx: { workflowExpected: true } },
    );
    expect(gate.verdict).toMatchObject({ result: 'waiting', outputs: { catchingUp: true } });

    // A second admission of the same scope while the first runs is a 409: the executor reads open_runs once
    // more and the judge follows the run already holding the scope.
    const params = { mode: 'catch_up', projection: 'all', reason: 'projections behind' };
    const first = await step(h, 'dg.replay_start', params);
    expect(first.verdict.result).toBe('passed');
    const firstJob = first.verdict.result === 'passed' ? first.verdict.outputs.jobId : undefined;
    const second = await step(h, 'dg.replay_start', params);
    const m = second.measurement as ReplayStartMeasurement;
    expect(m.result).toMatchObject({ ok: false, evidence: { status: 409 }, error: { code: 'DG_ERR_API_CONFLICT' } });
    expect(m.openRuns?.map((r) => r.job_id)).toContain(firstJob);
    expect(second.verdict).toMatchObject({ result: 'passed', outputs: { jobId: firstJob, attached: true } });

    const done = await pollUntilSettled(h, 'dg.replay_poll', { jobId: firstJob as string }, { timeoutMs: 15_000 });
    expect(done.verdict.result, JSON.stringify(done.verdict)).toBe('passed');
    expect(done.polls).toBeGreaterThan(1);
    expect((await step(h, 'dg.trace_read')).verdict.result).toBe('passed');
    await h.sim.clear('projections-behind');
  });

  it('a rebuild in a deployment that forbids them is a 403 the judge names rebuild_forbidden', async () => {
    const { measurement, verdict } = await step(h, 'dg.replay_start', {
      mode: 'rebuild',
      projection: 'trace_summary',
      reason: 'untrusted summary',
    });
    expect((measurement as ReplayStartMeasurement).result).toMatchObject({
      ok: false,
      evidence: { status: 403 },
      error: { code: 'DG_ERR_API_FORBIDDEN', transient: false },
    });
    expect(failed(verdict)).toMatchObject({ error: { code: 'rebuild_forbidden' }, transient: false });
  });

  it('an unknown replay job is a non-transient 404', async () => {
    const { verdict } = await step(h, 'dg.replay_poll', { jobId: 'replay-999999' });
    expect(failed(verdict)).toMatchObject({ error: { code: 'replay_job_missing' }, transient: false });
  });

  it('an orphaned run is found by the inventory and by the checklist SQL', async () => {
    await h.sim.inject('orphaned-run');
    try {
      const inventory = await step(h, 'dg.replay_inventory');
      expect(inventory.verdict).toMatchObject({ result: 'passed', outputs: { hasOrphans: true, orphanCount: 1 } });
      const orphanId =
        inventory.verdict.result === 'passed'
          ? (inventory.verdict.outputs.orphans as Array<{ job_id: string }>)[0]?.job_id
          : undefined;

      const gate = await step(h, 'gate.checklist');
      const m = gate.measurement as ChecklistMeasurement;
      expect(m.sql?.openRuns?.map((r) => r.job_id)).toEqual([orphanId]);
      failed(gate.verdict);
      expect(failingConditions(gate.verdict)).toEqual(expect.arrayContaining(['open_runs', 'orphaned_runs']));
      // Once a person has decided about it, the same measurement passes the gate.
      const decided = judge('gate.checklist', gate.measurement, { ctx: { acknowledgedRunIds: [orphanId as string] } });
      expect(decided.result).toBe('passed');
    } finally {
      await h.sim.clear('orphaned-run');
    }
  });

  it('a failed upgrade passes healthz but fails the smoke checks on projection health and the trace read', async () => {
    await h.sim.inject('failed-upgrade');
    try {
      const { verdict } = await step(h, 'smoke.checks');
      const failing = ['projections_current', 'trace_read'];
      expect(failed(verdict)).toMatchObject({ error: { code: 'smoke_failed' }, outputs: { failing } });
      expect(failed(verdict).outputs?.passing).toEqual(expect.arrayContaining(['healthz', 'repo_started']));
      const { verdict: recorded } = await step(h, 'smoke.checks', {}, { judge: 'smoke.record' });
      expect(recorded).toMatchObject({ result: 'passed', outputs: { failing, allPassed: false } });
    } finally {
      await h.sim.clear('failed-upgrade');
    }
    expect((await step(h, 'smoke.checks')).verdict.result).toBe('passed');
  });

  it('postgres down: healthz 200 without a database, projection health a transient 500, checklist SQL error', async () => {
    await h.sim.inject('postgres-down');
    try {
      const hz = await step(h, 'dg.healthz', {}, { judge: 'healthz.db_connected' });
      expect(hz.measurement).toMatchObject({ ok: true, evidence: { status: 200 } });
      expect(hz.verdict).toMatchObject({ result: 'waiting', outputs: { healthz: 'db_unavailable' } });
      const ph = await step(h, 'dg.projection_health');
      expect(failed(ph.verdict)).toMatchObject({ transient: true, error: { code: 'DG_ERR_API_INTERNAL' } });
      // The same policy as for a malformed answer: counted, and bounded.
      expect(readFailedWaitCheck(failed(ph.verdict), 0)).toEqual({ kind: 'unsatisfied', badAnswers: 1 });
      expect(readFailedWaitCheck(failed(ph.verdict), MAX_BAD_ANSWERS_IN_A_ROW - 1)).toMatchObject({ kind: 'give_up' });
      const gate = await step(h, 'gate.checklist');
      expect((gate.measurement as ChecklistMeasurement).sql?.error?.code).toMatch(/^DG_ERR_SQL_/);
      expect(failed(gate.verdict).error.code).toMatch(/^DG_ERR_SQL_/);
    } finally {
      await h.sim.clear('postgres-down');
    }
  });
});

describe('transport and limiter failures', () => {
  it('429 and timeouts are transient failures; a caller abort ends the call the same way', async () => {
    const sim = h.sim;
    const config = configFor(sim);
    // No client-side budget, so the server's limiter answers; a short header timeout against the slow fault.
    const factory = createExecutorContext(config, defaultRecoveryConfig(), {
      logger: silentLogger,
      rateBudget: null,
      dgTimeouts: { headersMs: 300 },
    });
    try {
      await sim.inject('slow');
      const slow = (await executeStep('dg.healthz', {}, factory.forStep({ runId: 'r-slow' }))) as HealthzMeasurement;
      expect(slow).toMatchObject({ ok: false, error: { code: 'DG_ERR_API_TIMEOUT', transient: true } });
      expect(judge('dg.healthz', slow).result).toBe('waiting');

      const controller = new AbortController();
      const pending = executeStep(
        'dg.trace_read',
        {},
        factory.forStep({ runId: 'r-abort', signal: controller.signal }),
      );
      controller.abort();
      expect(await pending).toMatchObject({ ok: false, error: { code: 'DG_ERR_API_TIMEOUT', transient: true } });
    } finally {
      await sim.clear('slow');
    }

    const ctx = factory.forStep({ runId: 'r-limit', tenantId: 'default' });
    let limited: Awaited<ReturnType<typeof executeStep<'dg.replay_poll'>>> | undefined;
    // 121 calls within a second span at most two limiter windows, so one of them sees its 61st admin call.
    for (let i = 0; i < 121 && limited === undefined; i++) {
      const m = await executeStep('dg.replay_poll', { jobId: 'replay-1' }, ctx);
      if (!m.run.ok && m.run.evidence.status === 429) limited = m;
    }
    expect(limited?.run).toMatchObject({ ok: false, error: { code: 'DG_ERR_API_RATE_LIMITED', transient: true } });
    if (limited) expect(failed(judge('dg.replay_poll', limited)).transient).toBe(true);
    await factory.close();
  });

  it('an answer off the contract is a non-transient contract violation', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const factory = createExecutorContext(
      configFor(h.sim, { DG_BASE_URL: `http://127.0.0.1:${port}` }),
      defaultRecoveryConfig(),
      { logger: silentLogger },
    );
    try {
      const m = (await executeStep('dg.healthz', {}, factory.forStep({ runId: 'r-off' }))) as HealthzMeasurement;
      expect(m).toMatchObject({ ok: false, evidence: { status: 200 } });
      if (!m.ok) {
        expect(m.error).toMatchObject({ code: 'DG_ERR_CONTRACT_VIOLATION', transient: false });
        expect(m.error.message).toContain('projection_health');
      }
      // A wait counts it as one more unsatisfied check, and gives up after five in a row (wait-checks.ts).
      const verdict = failed(judge('dg.healthz', m));
      expect(verdict).toMatchObject({ transient: false, error: { code: 'DG_ERR_CONTRACT_VIOLATION' } });
      expect(readFailedWaitCheck(verdict, 0)).toEqual({ kind: 'unsatisfied', badAnswers: 1 });
      expect(readFailedWaitCheck(verdict, MAX_BAD_ANSWERS_IN_A_ROW - 1)).toMatchObject({ kind: 'give_up' });
      expect(failed(judge('dg.replay_inventory', { healthz: m, projectionHealth: m } as never)).transient).toBe(false);
    } finally {
      await factory.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
