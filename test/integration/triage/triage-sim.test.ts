import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import type { Diagnosis } from '../../../src/runbook/diagnose.js';
import {
  createDiagnoser,
  DiagnoseCutOffError,
  type Diagnoser,
  describeStateLocation,
  readHealth,
  stateLocation,
  sweepProbes,
} from '../../../src/triage/index.js';
import { configFor, type Harness, silentLogger, startHarness } from '../executors/fixtures.js';

// The triage module against the simulator, one fault at a time, as `status` and `diagnose` see it from the
// terminal or from Slack.

/**
 * The `slow` fault's delay: far beyond the diagnoser's 300 ms deadline, so a cut-off is told from a wait for the
 * answer by the clock with room for a busy machine. Only the cut-off tests use it; their calls never wait it out.
 */
const SLOW_MS = 10_000;

let h: Harness;
let diagnoser: Diagnoser;
let dgDb: pg.Pool;

beforeAll(async () => {
  h = await startHarness({ slowLatencyMs: SLOW_MS }, () => ({
    ...defaultRecoveryConfig(),
    release: { previousKnownGood: 'v1' },
  }));
  diagnoser = createDiagnoser({ executors: h.factory, logger: silentLogger });
  dgDb = new pg.Pool({ connectionString: h.sim.databaseUrl, max: 1 });
  dgDb.on('error', () => undefined);
});

afterAll(async () => {
  await dgDb?.end();
  await h?.close();
});

/** What a write by the bot would change: replay runs requested, the workflow refresh a workflow GET performs. */
async function writeMarks(): Promise<{ runs: number; workflowRefreshedAt: string | null }> {
  const { rows } = await dgDb.query<{ runs: number; refreshed: string | null }>(
    `SELECT (SELECT COUNT(*) FROM dg_projection_runs)::int AS runs,
            (SELECT MAX(updated_at)::text FROM dg_workflow_runtime) AS refreshed`,
  );
  const r = rows[0];
  if (!r) throw new Error('no counts');
  return { runs: r.runs, workflowRefreshedAt: r.refreshed };
}

function matchedRules(d: Diagnosis): string[] {
  return d.rules.filter((r) => r.matched).map((r) => r.id);
}

async function withFault<T>(fault: Parameters<Harness['sim']['inject']>[0], body: () => Promise<T>): Promise<T> {
  await h.sim.inject(fault);
  try {
    return await body();
  } finally {
    await h.sim.clear(fault);
  }
}

describe('a healthy node', () => {
  it('reads healthy for status and diagnose, writes nothing, and says where the bot keeps its state', async () => {
    expect(h.sim.known.workflowId).not.toBeNull();
    const before = await writeMarks();

    const reading = await readHealth(h.ctx('status'));
    expect(reading.verdict).toMatchObject({ healthy: true, failing: [] });
    expect(reading.measurement.workflow).toBeUndefined();

    const sweep = await sweepProbes(h.ctx('diagnose'));
    expect(sweep.smoke?.checks.map((c) => c.name)).toEqual([
      'healthz',
      'repo_started',
      'projection_health',
      'projections_current',
      'trace_read',
    ]);
    expect(sweep.integrity?.checks.every((c) => c.rowCount === 0)).toBe(true);
    expect(sweep.parity?.current.eventCount).toBeGreaterThan(0);

    const d = await diagnoser();
    expect(d.verdict).toBe('healthy');
    expect(matchedRules(d)).toEqual([]);
    expect(d.explanation).toMatch(/No symptom of any runbook scenario/);

    // No replay was requested and no workflow was read (a workflow GET refreshes the workflow tables).
    expect(await writeMarks()).toEqual(before);

    const where = stateLocation(configFor(h.sim, { REDIS_URL: 'redis://127.0.0.1:6379/0' }), { prefix: 'dgr-t:' });
    const lines = describeStateLocation(where);
    expect(lines[0]).toBe('Live run logs and step jobs: Redis 127.0.0.1:6379, key prefix dgr-t:');
    expect(lines[1]).toBe('Journal of every run: Postgres 127.0.0.1:5432/unused, schema dg_recovery');
  });
});

describe('the shares-a-server warning', () => {
  it("warns when the journal's DATABASE_URL and DG_DATABASE_URL name the same Postgres host and port", () => {
    const dgUrl = new URL(h.sim.databaseUrl);
    expect(`${dgUrl.hostname}:${dgUrl.port || '5432'}`).toBe('127.0.0.1:5432');
    const shared = stateLocation(configFor(h.sim, { DATABASE_URL: 'postgres://bot:s3cret@localhost/journal' }));
    expect(shared.sharesServerWithDecisionGraph).toBe(true);
    const lines = describeStateLocation(shared);
    expect(lines.at(-1)).toMatch(
      /^Warning: the journal shares a server with DecisionGraph's database \(Postgres localhost:5432\)/,
    );
    expect(lines.join('\n')).not.toContain('s3cret');

    const apart = stateLocation(configFor(h.sim, { DATABASE_URL: 'postgres://bot:s3cret@127.0.0.1:5433/journal' }));
    expect(apart.sharesServerWithDecisionGraph).toBe(false);
    expect(describeStateLocation(apart).join('\n')).not.toMatch(/Warning/);
  });
});

describe('diagnose picks the scenario of each fault', () => {
  it('node down: restart, and status reads healthz unreachable', async () => {
    const [d, reading] = await withFault('node-down', async () => [
      await diagnoser(),
      await readHealth(h.ctx('status')),
    ]);
    expect(d).toMatchObject({ verdict: 'scenario', scenario: 'restart' });
    expect(matchedRules(d)).toContain('restart.healthz_unreachable');
    expect(reading.verdict.healthy).toBe(false);
    expect(reading.verdict.failing.map((f) => f.condition)).toContain('healthz_unreachable');
  });

  it('Postgres down: postgres, with the SQL probes reported as not measured', async () => {
    const d = await withFault('postgres-down', () => diagnoser());
    expect(d).toMatchObject({ verdict: 'scenario', scenario: 'postgres' });
    expect(matchedRules(d)).toEqual(
      expect.arrayContaining(['postgres.sql_unreachable', 'postgres.runtime_disconnected']),
    );
    const ruleOf = (id: string) => d.rules.find((r) => r.id === id);
    expect(ruleOf('event_log.payload_hash_drift')?.because).toMatch(/^not measured: .*Postgres unreachable/);
    expect(ruleOf('coverage.incomplete')?.because).toMatch(/the SQL integrity checks/);
  });

  it('hash drift: event-log, naming the drifted row', async () => {
    const d = await withFault('hash-drift', () => diagnoser());
    expect(d).toMatchObject({ verdict: 'scenario', scenario: 'event-log' });
    const drift = d.rules.find((r) => r.id === 'event_log.payload_hash_drift');
    expect(drift).toMatchObject({ matched: true, because: 'payload hash drift: 1 row found' });
  });

  it('projections behind: projections, the failing smoke checks counted as explained by the staleness', async () => {
    const d = await withFault('projections-behind', () => diagnoser());
    expect(d).toMatchObject({ verdict: 'scenario', scenario: 'projections' });
    expect(d.rules.find((r) => r.id === 'conflict.smoke_unexplained')?.matched).toBe(false);
  });

  it('failed upgrade: upgrade when the running release is given, unclear when it is not', async () => {
    const [known, unknown] = await withFault('failed-upgrade', async () => [
      await diagnoser({ currentRelease: 'v2-broken' }),
      await diagnoser(),
    ]);
    expect(known).toMatchObject({ verdict: 'scenario', scenario: 'upgrade' });
    expect(known.explanation).toMatch(/v2-broken, which is not the known-good v1/);
    expect(unknown.verdict).toBe('unclear');
    expect(unknown.explanation).toMatch(/trace_read \(500/);
  });
});

describe('the deadline', () => {
  it('gives up with DG_ERR_DIAGNOSE_CUT_OFF instead of reading a slow node as a dead one', async () => {
    const started = performance.now();
    const err = await withFault('slow', () =>
      createDiagnoser({ executors: h.factory, logger: silentLogger, timeoutMs: 300 })().then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    const elapsed = performance.now() - started;
    expect(err).toBeInstanceOf(DiagnoseCutOffError);
    expect(err).toMatchObject({ code: 'DG_ERR_DIAGNOSE_CUT_OFF', reason: 'deadline' });
    expect(elapsed).toBeLessThan(SLOW_MS);
  });

  it('stops when the caller cancels (Ctrl-C at the terminal)', async () => {
    const controller = new AbortController();
    const err = await withFault('slow', async () => {
      const pending = diagnoser({ signal: controller.signal }).then(
        () => undefined,
        (e: unknown) => e,
      );
      controller.abort();
      return pending;
    });
    expect(err).toMatchObject({ code: 'DG_ERR_DIAGNOSE_CUT_OFF', reason: 'cancelled' });
  });
});
