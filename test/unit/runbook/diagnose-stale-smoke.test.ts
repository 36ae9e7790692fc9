import { describe, expect, it } from 'vitest';
import { diagnose, type ProbeSweep } from '../../../src/runbook/diagnose.js';
import type { ProjectionHealthBody, SmokeCheck } from '../../../src/runbook/measurements.js';
import { INTEGRITY_CHECKS } from '../../../src/runbook/measurements.js';

// The smoke checks exactly as the `smoke.checks` executor names them (read-only: no replay admission, no
// workflow), against a node whose projections are three events behind the tail.

const TAIL = 540;

const behind: ProjectionHealthBody = {
  tenant_id: 'default',
  event_log_last_seq: TAIL,
  projections: ['context_graph', 'trace_summary', 'precedent_index'].map((projection_name) => ({
    projection_name,
    last_log_seq: TAIL - 3,
    pending_events: 3,
    is_stale: true,
    open_failures: 0,
  })),
  open_runs: [],
};

function check(name: string, path: string, status: number, ok: boolean, detail: string): SmokeCheck {
  return { name, ok, detail, source: { kind: 'http', method: 'GET', path, status, requestId: 'r1', latencyMs: 3 } };
}

function sweepBehind(traceRead: SmokeCheck): ProbeSweep {
  const evidence = (path: string) => ({ method: 'GET', path, status: 200, requestId: 'r1', latencyMs: 3 });
  return {
    healthz: {
      ok: true,
      data: { projection_health: behind, projector: { active_replay_jobs: 0 }, store: { 'repo_started?': true } },
      evidence: evidence('/api/healthz'),
    },
    projectionHealth: { ok: true, data: behind, evidence: evidence('/api/v1/projections/health') },
    sqlReach: { reachable: true, latencyMs: 1 },
    integrity: {
      checks: INTEGRITY_CHECKS.map((name) => ({ name, rowCount: 0, sample: [], sql: `-- ${name}`, latencyMs: 1 })),
    },
    smoke: {
      checks: [
        check('healthz', '/api/healthz', 200, true, 'healthz answered 200'),
        check('repo_started', '/api/healthz', 200, true, 'store repo_started? is true'),
        check('projection_health', '/api/v1/projections/health', 200, true, 'tenant default at log_seq 540'),
        check(
          'projections_current',
          '/api/v1/projections/health',
          200,
          false,
          'behind: context_graph 3 pending, trace_summary 3 pending, precedent_index 3 pending',
        ),
        traceRead,
      ],
    },
  };
}

describe('diagnose with the smoke checks the sweep records', () => {
  it('picks projections when the only failing checks are the staleness itself and 409 trace reads', () => {
    const d = diagnose(
      sweepBehind(check('trace_read', '/api/v1/traces/trace-0001', 409, false, 'projection_out_of_date')),
    );
    expect(d.verdict).toBe('scenario');
    expect(d.scenario).toBe('projections');
    const smokeRule = d.rules.find((r) => r.id === 'conflict.smoke_unexplained');
    expect(smokeRule?.matched).toBe(false);
    expect(smokeRule?.because).toBe('the failing smoke checks are explained by the matched rules');
  });

  it('still says unclear when a read fails in a way staleness does not explain, naming only that check', () => {
    const d = diagnose(
      sweepBehind(check('trace_read', '/api/v1/traces/trace-0001', 500, false, 'column "summary_v2" does not exist')),
    );
    expect(d.verdict).toBe('unclear');
    expect(d.explanation).toMatch(/trace_read \(500/);
    expect(d.explanation).not.toMatch(/projections_current \(/);
  });
});
