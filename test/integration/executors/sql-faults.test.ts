import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectOpenFailures } from '../../../sim/db/faults.js';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import { createExecutorContext, executeStep, measureStep } from '../../../src/executors/registry/index.js';
import {
  type ChecklistMeasurement,
  INTEGRITY_CHECKS,
  type Measurement,
  type SqlIntegrityMeasurement,
  type SqlParityMeasurement,
  type SqlProjectionFailuresMeasurement,
  type SqlReachMeasurement,
} from '../../../src/runbook/measurements.js';
import { freePort } from '../../helpers/own-postgres.js';
import { configFor, failingConditions, type Harness, judge, silentLogger, startHarness, step } from './fixtures.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

function check(m: SqlIntegrityMeasurement, name: string) {
  const found = m.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

describe('SQL probes as measurements', () => {
  it('hash drift: the integrity scan finds the rewritten event and the clean-log judge refuses it', async () => {
    await h.sim.inject('hash-drift');
    try {
      const { measurement, verdict } = await step(h, 'sql.integrity');
      const m = measurement as SqlIntegrityMeasurement;
      expect(m.checks.map((c) => c.name)).toEqual([...INTEGRITY_CHECKS]);
      const drift = check(m, 'payload_hash_drift');
      expect(drift.rowCount).toBeGreaterThan(0);
      expect(drift.sample[0]).toMatchObject({ event_id: expect.any(String), log_seq: expect.any(Number) });
      expect(drift.sql).toContain('payload_hash IS DISTINCT FROM');
      expect(JSON.stringify(drift.sample)).not.toContain('payload_json');
      expect(verdict).toMatchObject({ result: 'passed', outputs: { damage: 'found', hashDrift: drift.rowCount } });
      expect(judge('sql.integrity', m, { judge: 'integrity.clean' })).toMatchObject({
        result: 'failed',
        transient: false,
        error: { code: 'event_log_damaged' },
      });
      // A checklist that re-checks the log after a restore fails on the same drift.
      const gate = await step(h, 'gate.checklist', { integrity: true });
      expect(failingConditions(gate.verdict)).toContain('event_log_damaged');
    } finally {
      await h.sim.clear('hash-drift');
    }
    expect((await step(h, 'sql.integrity', {}, { judge: 'integrity.clean' })).verdict.result).toBe('passed');
    expect(failingConditions((await step(h, 'gate.checklist', { integrity: true })).verdict)).not.toContain(
      'event_log_damaged',
    );
  });

  it('broken ordering and a cursor ahead of the tail are counted by their own checks', async () => {
    await h.sim.inject('broken-ordering');
    await h.sim.inject('cursor-ahead');
    try {
      const m = (await executeStep('sql.integrity', { scope: 'tenant' }, h.ctx())) as SqlIntegrityMeasurement;
      expect(check(m, 'trace_seq_range').rowCount + check(m, 'trace_seq_step').rowCount).toBeGreaterThan(0);
      expect(check(m, 'cursor_ahead').rowCount).toBeGreaterThan(0);
      expect(judge('sql.integrity', m)).toMatchObject({ outputs: { hasCursorAhead: true, damage: 'found' } });
      const cursors = await step(h, 'sql.cursor_ahead');
      expect(cursors.verdict).toMatchObject({ result: 'passed', outputs: { hasCursorAhead: true, cursorAhead: 3 } });

      const gate = await step(h, 'gate.checklist');
      expect((gate.measurement as ChecklistMeasurement).sql?.cursorAhead?.[0]).toMatchObject({
        tenant_id: 'default',
        projection_name: expect.any(String),
      });
      expect(gate.verdict.result).toBe('failed');
      expect(failingConditions(gate.verdict)).toContain('cursor_ahead');
    } finally {
      await h.sim.clear('cursor-ahead');
      await h.sim.clear('broken-ordering');
    }
  });

  it('the checklist reads the runtime since the run started: a failure recorded again and again is a retry storm', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const calm = await step(h, 'gate.checklist', { since });
    const runtime = (calm.measurement as ChecklistMeasurement).sql?.runtime;
    expect(runtime).toMatchObject({ since, repeatedFailures: [], failedRuns: [] });
    expect(runtime?.tenants.map((t) => t.tenantId)).toEqual(['default']);
    expect(failingConditions(calm.verdict)).not.toContain('retry_storm');

    // Four rows on one event, as a stopped worker adds one on every append: context_graph's failure twice.
    const pool = new pg.Pool({ connectionString: h.sim.databaseUrl, max: 1 });
    try {
      const injected = await injectOpenFailures(pool, { count: 4 });
      const stormy = await step(h, 'gate.checklist', { since });
      expect(failingConditions(stormy.verdict)).toEqual(expect.arrayContaining(['open_failures', 'retry_storm']));
      expect((stormy.measurement as ChecklistMeasurement).sql?.runtime?.repeatedFailures[0]).toMatchObject({
        projection: 'context_graph',
        rows: 2,
        stillOpen: true,
      });
      await pool.query(`UPDATE dg_projection_failures SET status = 'resolved' WHERE id = ANY($1::uuid[])`, [
        injected.detail?.failureIds,
      ]);
    } finally {
      await pool.end();
    }
  });

  it('open projection failures are grouped and classified for the replay decision', async () => {
    await h.sim.inject('open-failures');
    try {
      const { measurement, verdict } = await step(h, 'sql.projection_failures');
      const m = measurement as SqlProjectionFailuresMeasurement;
      expect(m.rows.length).toBeGreaterThan(0);
      expect(m.rows[0]).toMatchObject({ projection_name: expect.any(String), error_code: expect.any(String) });
      expect(m.sql).toContain("status = 'open'");
      expect(verdict.result).toBe('passed');
      if (verdict.result === 'passed') {
        expect(verdict.outputs.openFailures).toBeGreaterThan(0);
        expect(['catch_up', 'rebuild']).toContain(verdict.outputs.suggested);
      }
    } finally {
      await h.sim.clear('open-failures');
    }
  });

  it('parity records the log, and the same log compared with it has nothing missing', async () => {
    const before = (await executeStep('sql.parity', {}, h.ctx())) as SqlParityMeasurement;
    expect(before).toMatchObject({ tenantCount: 1 });
    expect(before.maxLogSeq).toBeGreaterThanOrEqual(before.eventCount);
    const reference = { referenceCount: before.eventCount, referenceMaxLogSeq: before.maxLogSeq };
    const same = judge('sql.parity', before, { judge: 'parity.compare', params: reference });
    expect(same).toMatchObject({ result: 'passed', outputs: { eventsNotRestored: 0 } });
  });

  it('Postgres refusing connections: every SQL probe measures the failure, and no judge reads a clean log', async () => {
    await h.sim.inject('postgres-down');
    try {
      const reach = (await executeStep('sql.reach', {}, h.ctx())) as SqlReachMeasurement;
      expect(reach.reachable).toBe(false);
      expect(reach.error?.code).toMatch(/^DG_ERR_SQL_/);
      expect(judge('sql.reach', reach).result).toBe('waiting');
      expect(judge('sql.reach', reach, { judge: 'sql.symptoms' })).toMatchObject({
        result: 'passed',
        outputs: { postgres: 'unreachable' },
      });
      const integrity = (await executeStep('sql.integrity', {}, h.ctx())) as SqlIntegrityMeasurement;
      expect(integrity.checks).toEqual([]);
      expect(integrity.error?.code).toMatch(/^DG_ERR_SQL_/);
      for (const name of ['integrity.evidence', 'integrity.clean'] as const) {
        expect(judge('sql.integrity', integrity, { judge: name })).toMatchObject({
          result: 'failed',
          error: { code: integrity.error?.code },
        });
      }
    } finally {
      await h.sim.clear('postgres-down');
    }
    expect((await step(h, 'sql.reach')).verdict.result).toBe('passed');
  });

  it('Postgres not listening at all is a transient unreachable failure', async () => {
    const port = await freePort();
    const factory = createExecutorContext(
      configFor(h.sim, { DG_DATABASE_URL: `postgres://reader@127.0.0.1:${port}/decisiongraph` }),
      defaultRecoveryConfig(),
      { logger: silentLogger },
    );
    try {
      const ctx = factory.forStep({ runId: 'r-pg' });
      const reach = (await executeStep('sql.reach', {}, ctx)) as SqlReachMeasurement;
      expect(reach).toMatchObject({
        reachable: false,
        error: { code: 'DG_ERR_SQL_UNREACHABLE', transient: true },
      });
      const gate = (await executeStep('gate.checklist', {}, ctx)) as ChecklistMeasurement;
      expect(gate.sql).toEqual({ error: expect.objectContaining({ code: 'DG_ERR_SQL_UNREACHABLE', transient: true }) });
      expect(judge('gate.checklist', gate)).toMatchObject({ result: 'failed', transient: true });
      for (const executor of ['sql.integrity', 'sql.parity', 'sql.projection_failures', 'sql.cursor_ahead'] as const) {
        const outcome = await measureStep(executor, {}, ctx);
        expect(outcome).toMatchObject({
          kind: 'measured',
          measurement: { error: { code: 'DG_ERR_SQL_UNREACHABLE', transient: true } },
        });
        // Transient: the step's retry policy tries again later.
        const m = (outcome as { measurement: Measurement }).measurement;
        expect(judge(executor, m), executor).toMatchObject({
          result: 'failed',
          transient: true,
          error: { code: 'DG_ERR_SQL_UNREACHABLE' },
        });
      }
    } finally {
      await factory.close();
    }
  });
});
