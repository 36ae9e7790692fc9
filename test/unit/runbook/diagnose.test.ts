import { describe, expect, it } from 'vitest';
import { type Diagnosis, diagnose, type ProbeSweep } from '../../../src/runbook/diagnose.js';
import type {
  CallEvidence,
  HealthzBody,
  HealthzMeasurement,
  IntegrityCheckName,
  OpenRunBody,
  ProjectionHealthBody,
  SmokeCheck,
  SqlIntegrityMeasurement,
} from '../../../src/runbook/measurements.js';
import { INTEGRITY_CHECKS } from '../../../src/runbook/measurements.js';

// Each sweep below is what the probes measure against the simulator with one fault switched on (sim/README.md
// describes each fault's effect); the clean sweep is a healthy node.

const TAIL = 2168;

function call(path: string, status: number | null, latencyMs = 4): CallEvidence {
  return { method: 'GET', path, status, requestId: status === null ? null : 'req-1', latencyMs };
}

function projections(over: Partial<Record<string, { cursor?: number; failures?: number }>> = {}): ProjectionHealthBody {
  return {
    tenant_id: 'default',
    event_log_last_seq: TAIL,
    projections: ['context_graph', 'trace_summary', 'precedent_index'].map((name) => {
      const cursor = over[name]?.cursor ?? TAIL;
      return {
        projection_name: name,
        last_log_seq: cursor,
        pending_events: Math.max(TAIL - cursor, 0),
        is_stale: cursor < TAIL,
        open_failures: over[name]?.failures ?? 0,
      };
    }),
    open_runs: [],
  };
}

function healthzUp(ph: ProjectionHealthBody = projections(), activeReplayJobs = 0): HealthzMeasurement {
  const data: HealthzBody = {
    projection_health: ph,
    projector: { active_replay_jobs: activeReplayJobs },
    store: { 'repo_started?': true },
  };
  return { ok: true, data, evidence: call('/api/healthz', 200) };
}

function integrity(rows: Partial<Record<IntegrityCheckName, number>> = {}): SqlIntegrityMeasurement {
  return {
    checks: INTEGRITY_CHECKS.map((name) => ({
      name,
      rowCount: rows[name] ?? 0,
      sample: (rows[name] ?? 0) > 0 ? [{ trace_id: 'trace-17', log_seq: 901 }] : [],
      sql: `-- ${name}`,
      latencyMs: 3,
    })),
  };
}

const smokePass = (name: string, path: string): SmokeCheck => ({
  name,
  ok: true,
  detail: 'ok',
  source: { kind: 'http', method: 'GET', path, status: 200 },
});

function smoke(failing: Partial<Record<string, { status: number | null; detail: string }>> = {}): ProbeSweep['smoke'] {
  const all: [string, string][] = [
    ['healthz', '/api/healthz'],
    ['projection_health', '/api/v1/projections/health'],
    ['trace_read', '/api/v1/traces/trace-demo'],
    ['workflow_list', '/api/v1/workflows'],
  ];
  return {
    checks: all.map(([name, path]) => {
      const f = failing[name];
      return f
        ? { name, ok: false, detail: f.detail, source: { kind: 'http', method: 'GET', path, status: f.status } }
        : smokePass(name, path);
    }),
  };
}

function clean(): ProbeSweep {
  const ph = projections();
  return {
    healthz: healthzUp(ph),
    projectionHealth: { ok: true, data: ph, evidence: call('/api/v1/projections/health', 200) },
    sqlReach: { reachable: true, latencyMs: 2, serverVersion: '15.8' },
    integrity: integrity(),
    parity: {
      current: { eventCount: 2168, maxLogSeq: TAIL, tenantCount: 1, sql: 'SELECT COUNT(*)', latencyMs: 2 },
      reference: { eventCount: 2100, maxLogSeq: 2100, recordedAt: '2026-03-01T00:00:00Z' },
    },
    openRuns: [],
    smoke: smoke(),
    release: { current: 'v1', knownGood: 'v1' },
  };
}

function withProjections(s: ProbeSweep, ph: ProjectionHealthBody, activeReplayJobs = 0): ProbeSweep {
  return {
    ...s,
    healthz: healthzUp(ph, activeReplayJobs),
    projectionHealth: { ok: true, data: ph, evidence: call('/api/v1/projections/health', 200) },
  };
}

const unreachable = (path: string) =>
  ({
    ok: false,
    error: { code: 'DG_ERR_API_UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.1:4100', transient: true },
    evidence: call(path, null),
  }) as const;

function rule(d: Diagnosis, id: string) {
  const found = d.rules.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

const orphan: OpenRunBody = {
  job_id: 'replay-5763',
  projection_name: 'all',
  mode: 'catch_up',
  status: 'running',
  requested_at: '2026-03-07T11:00:00Z',
  processed_events: 120,
};

const FAULT_SWEEPS: Record<string, () => ProbeSweep> = {
  'node-down': () => ({
    ...clean(),
    healthz: unreachable('/api/healthz'),
    projectionHealth: unreachable('/api/v1/projections/health'),
    smoke: smoke({
      healthz: { status: null, detail: 'no answer' },
      projection_health: { status: null, detail: 'no answer' },
      trace_read: { status: null, detail: 'no answer' },
      workflow_list: { status: null, detail: 'no answer' },
    }),
  }),
  'postgres-down': () => ({
    ...clean(),
    healthz: {
      ok: true,
      data: {
        projection_health: { status: 'unavailable', reason: 'connection not available' },
        projector: { active_replay_jobs: 0 },
        store: { 'repo_started?': true },
      },
      evidence: call('/api/healthz', 200),
    },
    projectionHealth: {
      ok: false,
      error: { code: 'DG_ERR_API_INTERNAL', message: 'internal_error', transient: true, dgCode: 'internal_error' },
      evidence: call('/api/v1/projections/health', 500),
    },
    sqlReach: {
      reachable: false,
      latencyMs: 5,
      error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'database does not allow connections', transient: true },
    },
    integrity: undefined,
    parity: undefined,
    openRuns: undefined,
    smoke: smoke({
      projection_health: { status: 500, detail: 'internal_error' },
      trace_read: { status: 500, detail: 'internal_error' },
      workflow_list: { status: 500, detail: 'internal_error' },
    }),
  }),
  'projections-behind': () =>
    withProjections(
      { ...clean(), smoke: smoke({ trace_read: { status: 409, detail: 'projection_out_of_date' } }) },
      projections({
        context_graph: { cursor: TAIL - 3 },
        trace_summary: { cursor: TAIL - 3 },
        precedent_index: { cursor: TAIL - 3 },
      }),
    ),
  'open-failures': () => withProjections(clean(), projections({ precedent_index: { failures: 2 } })),
  'orphaned-run': () => {
    const ph = { ...projections(), open_runs: [orphan] };
    return { ...withProjections(clean(), ph, 0), openRuns: [orphan] };
  },
  'hash-drift': () => ({ ...clean(), integrity: integrity({ payload_hash_drift: 1 }) }),
  'broken-ordering': () => ({ ...clean(), integrity: integrity({ trace_seq_step: 1, trace_seq_range: 1 }) }),
  'cursor-ahead': () => ({ ...clean(), integrity: integrity({ cursor_ahead: 3 }) }),
  'failed-upgrade': () =>
    withProjections(
      {
        ...clean(),
        release: { current: 'v2-broken', knownGood: 'v1' },
        smoke: smoke({ trace_read: { status: 500, detail: 'column "summary_v2" does not exist' } }),
      },
      projections({ trace_summary: { cursor: 0 } }),
    ),
};

const EXPECTED: Record<string, string> = {
  'node-down': 'restart',
  'postgres-down': 'postgres',
  'projections-behind': 'projections',
  'open-failures': 'projections',
  'orphaned-run': 'projections',
  'hash-drift': 'event-log',
  'broken-ordering': 'event-log',
  'cursor-ahead': 'event-log',
  'failed-upgrade': 'upgrade',
};

describe('diagnose', () => {
  it('calls a clean node healthy, with every rule unmatched and explained', () => {
    const d = diagnose(clean());
    expect(d.verdict).toBe('healthy');
    expect(d.scenario).toBeUndefined();
    expect(d.candidates).toEqual([]);
    expect(d.rules.every((r) => !r.matched)).toBe(true);
    expect(d.rules.every((r) => r.because.length > 0)).toBe(true);
    expect(d.explanation).toMatch(/No symptom of any runbook scenario/);
  });

  for (const [fault, scenario] of Object.entries(EXPECTED)) {
    it(`picks ${scenario} for the simulator's ${fault} fault, with the matching rule's evidence`, () => {
      const d = diagnose((FAULT_SWEEPS[fault] as () => ProbeSweep)());
      expect(d.verdict).toBe('scenario');
      expect(d.scenario).toBe(scenario);
      expect(d.confidence).toBe('rule-matched');
      expect(d.candidates[0]).toBe(scenario);
      const deciding = d.rules.filter((r) => r.matched && r.scenario === scenario);
      expect(deciding.length).toBeGreaterThan(0);
      expect(deciding.every((r) => r.evidence.length > 0 || r.id === 'coverage.incomplete')).toBe(true);
      expect(d.explanation).toContain(`Fits scenario ${scenario}`);
      expect(d.explanation).toContain('a person decides');
    });
  }

  it('counts the slow and rebuild-disabled switches as healthy: neither is a runbook symptom', () => {
    const slow = clean();
    const d = diagnose({ ...slow, healthz: { ...healthzUp(), evidence: call('/api/healthz', 200, 1500) } });
    expect(d.verdict).toBe('healthy');
  });

  it('puts the event log first when damage is found alongside other symptoms', () => {
    const sweep = {
      ...(FAULT_SWEEPS['projections-behind'] as () => ProbeSweep)(),
      integrity: integrity({ events_after_finish: 2 }),
    };
    const d = diagnose(sweep);
    expect(d.scenario).toBe('event-log');
    expect(d.candidates).toEqual(['event-log', 'projections']);
    expect(d.explanation).toMatch(/Also seen.*projections/);
    expect(rule(d, 'event_log.events_after_finish').because).toBe('events after TraceFinished: 2 rows found');
  });

  it('treats a shrunk event log (parity below the reference) as event-log damage', () => {
    const s = clean();
    const d = diagnose({
      ...s,
      parity: {
        current: { eventCount: 1900, maxLogSeq: 1900, tenantCount: 1, sql: 'SELECT COUNT(*)', latencyMs: 2 },
        reference: { eventCount: 2168, maxLogSeq: 2168 },
      },
    });
    expect(d.scenario).toBe('event-log');
    expect(rule(d, 'event_log.parity_shrunk').because).toMatch(/holds less than before: 1900 events/);
  });

  it('says unclear when the bot cannot reach Postgres but DecisionGraph reports it connected', () => {
    const d = diagnose({
      ...clean(),
      sqlReach: {
        reachable: false,
        latencyMs: 1,
        error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'password authentication failed', transient: false },
      },
      integrity: undefined,
    });
    expect(d.verdict).toBe('unclear');
    expect(d.scenario).toBeUndefined();
    expect(d.candidates).toEqual(['postgres']);
    expect(rule(d, 'conflict.sql_unreachable_but_runtime_connected').matched).toBe(true);
    expect(d.explanation).toMatch(/^No scenario can be recommended: .*bot's own database access/);
  });

  it('says unclear when smoke checks fail with 500 and the release is not known', () => {
    const sweep = (FAULT_SWEEPS['failed-upgrade'] as () => ProbeSweep)();
    const d = diagnose({ ...sweep, release: undefined });
    expect(d.verdict).toBe('unclear');
    expect(d.candidates).toEqual(['projections']);
    expect(rule(d, 'upgrade.smoke_failing_on_new_release').because).toMatch(/can be neither confirmed nor ruled out/);
    expect(d.explanation).toMatch(/trace_read \(500/);
    expect(d.explanation).toMatch(/stale projections explain 409 answers, not these/);
  });

  it('does not call failing smoke checks on the known-good release an upgrade', () => {
    const d = diagnose({ ...clean(), smoke: smoke({ workflow_list: { status: 500, detail: 'boom' } }) });
    expect(d.verdict).toBe('unclear');
    expect(rule(d, 'upgrade.smoke_failing_on_new_release').because).toMatch(/on the known-good release v1/);
  });

  it('says unclear when the node is down on a release that is not the known-good one', () => {
    const sweep = (FAULT_SWEEPS['node-down'] as () => ProbeSweep)();
    const d = diagnose({ ...sweep, release: { current: 'v2', knownGood: 'v1' } });
    expect(d.verdict).toBe('unclear');
    expect(d.candidates).toEqual(['restart', 'upgrade']);
    expect(d.explanation).toMatch(/two scenarios fit/);
  });

  it('does not claim healthy when the integrity checks did not run', () => {
    const d = diagnose({ ...clean(), integrity: undefined });
    expect(d.verdict).toBe('unclear');
    expect(rule(d, 'coverage.incomplete').because).toMatch(/the SQL integrity checks/);
  });

  it('takes SQL probes that failed for not measured, not for a clean or a shrunk log', () => {
    const timeout = { code: 'DG_ERR_SQL_TIMEOUT', message: 'statement timeout', transient: true };
    const d = diagnose({
      ...clean(),
      integrity: { checks: integrity().checks, error: timeout },
      parity: {
        current: {
          eventCount: 0,
          maxLogSeq: 0,
          tenantCount: 0,
          sql: 'SELECT COUNT(*)',
          latencyMs: 5000,
          error: timeout,
        },
        reference: { eventCount: 2168, maxLogSeq: 2168 },
      },
    });
    expect(d.verdict).toBe('unclear');
    expect(d.candidates).toEqual([]);
    expect(rule(d, 'event_log.parity_shrunk')).toMatchObject({ matched: false });
    expect(rule(d, 'event_log.parity_shrunk').because).toMatch(/not measured.*DG_ERR_SQL_TIMEOUT/);
    expect(rule(d, 'event_log.payload_hash_drift').because).toMatch(/not measured.*DG_ERR_SQL_TIMEOUT/);
    expect(rule(d, 'coverage.incomplete').because).toMatch(/the SQL integrity checks/);
  });

  it('does not call open runs orphaned while a replay job is live', () => {
    const ph = { ...projections(), open_runs: [orphan] };
    const d = diagnose(withProjections(clean(), ph, 1));
    expect(rule(d, 'projections.orphaned_runs').matched).toBe(false);
    expect(rule(d, 'projections.orphaned_runs').because).toMatch(/not orphaned/);
  });

  it('chooses postgres when both the runtime and Postgres are down', () => {
    const d = diagnose({
      ...(FAULT_SWEEPS['postgres-down'] as () => ProbeSweep)(),
      healthz: unreachable('/api/healthz'),
    });
    expect(d.scenario).toBe('postgres');
    expect(rule(d, 'restart.healthz_unreachable').because).toMatch(/Postgres is down too/);
  });

  it('is deterministic: the same sweep gives the same diagnosis', () => {
    const sweep = (FAULT_SWEEPS['orphaned-run'] as () => ProbeSweep)();
    expect(JSON.stringify(diagnose(sweep))).toBe(JSON.stringify(diagnose(sweep)));
  });
});
