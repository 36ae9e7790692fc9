import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DgCallEvidence, DgCallResult } from '../../../src/executors/dg-http/evidence.js';
import {
  type Healthz,
  HealthzSchema,
  type ProjectionHealth,
  ProjectionHealthSchema,
  successEnvelope,
} from '../../../src/executors/dg-http/schemas.js';
import { type HealthCondition, type HealthVerdictInput, healthVerdict } from '../../../src/runbook/health-verdict.js';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../executors/dg-http/fixtures/${name}`, import.meta.url), 'utf8')) as unknown;
}

const evidence = (status: number | null): DgCallEvidence => ({
  endpoint: 'GET /api/healthz',
  method: 'GET',
  path: '/api/healthz',
  tenantId: null,
  scope: null,
  status,
  requestId: null,
  sentRequestId: 'dgr-test',
  attemptedAt: '2026-03-07T12:00:00.000Z',
  latencyMs: 3,
  rateWaitMs: 0,
});

/** A current tenant: the §3.1 sample (its embedded projection health is clean). */
function cleanHealthz(): Healthz {
  return HealthzSchema.parse(fixture('healthz.json'));
}

function cleanProjectionHealth(): ProjectionHealth {
  const hz = cleanHealthz();
  if ('status' in hz.projection_health) throw new Error('fixture must hold projection health data');
  return ProjectionHealthSchema.parse(hz.projection_health);
}

/** The §3.2 sample: trace_summary 18 behind, precedent_index 1 open failure, replay-5763 running. */
function sampleProjectionHealth(): ProjectionHealth {
  return successEnvelope(ProjectionHealthSchema).parse(fixture('projection-health.json')).data;
}

function ok<T>(data: T, status = 200): DgCallResult<T> {
  return { ok: true, data, evidence: evidence(status) };
}

function input(overrides: Partial<HealthVerdictInput> = {}): HealthVerdictInput {
  return {
    healthz: ok(cleanHealthz()),
    projectionHealth: ok(cleanProjectionHealth()),
    sql: { cursorAhead: [], openRuns: [] },
    ...overrides,
  };
}

function conditions(verdict: ReturnType<typeof healthVerdict>): HealthCondition[] {
  return verdict.failing.map((f) => f.condition);
}

describe('healthVerdict', () => {
  it('is healthy for a current tenant with nothing open, and says it checked everything', () => {
    const verdict = healthVerdict(input());
    expect(verdict).toEqual({ healthy: true, failing: [], unchecked: [] });
  });

  it('healthz_unreachable when nothing answered', () => {
    const verdict = healthVerdict(
      input({
        healthz: { ok: false, error: { code: 'DG_ERR_API_UNREACHABLE', message: 'unreachable (ECONNREFUSED)' } },
      }),
    );
    expect(verdict.healthy).toBe(false);
    expect(conditions(verdict)).toEqual(['healthz_unreachable']);
    expect(verdict.failing[0]?.detail).toContain('ECONNREFUSED');
    expect(verdict.unchecked).toEqual(expect.arrayContaining(['repo_not_started', 'orphaned_runs']));
  });

  it('healthz_status when healthz answered something other than 200', () => {
    const verdict = healthVerdict(
      input({
        healthz: { ok: false, error: { code: 'DG_ERR_API_UNEXPECTED_STATUS', message: 'answered 502', status: 502 } },
      }),
    );
    expect(verdict.failing).toEqual([
      expect.objectContaining({
        condition: 'healthz_status',
        measured: { status: 502, code: 'DG_ERR_API_UNEXPECTED_STATUS' },
        expected: { status: 200 },
      }),
    ]);
  });

  it('projection_health_unavailable when healthz reports it (Postgres down behind a 200)', () => {
    const hz = cleanHealthz();
    const reason = 'connection refused - connect(2) for 127.0.0.1:5432';
    const verdict = healthVerdict(
      input({
        healthz: ok({ ...hz, projection_health: { status: 'unavailable', reason } }),
        projectionHealth: {
          ok: false,
          error: { code: 'DG_ERR_API_INTERNAL', message: 'answered 500 internal_error', status: 500 },
        },
      }),
    );
    expect(conditions(verdict)).toEqual(['projection_health_unavailable', 'projection_health_error']);
    expect(verdict.failing[0]?.detail).toContain(reason);
    expect(verdict.failing[1]?.measured).toEqual({ code: 'DG_ERR_API_INTERNAL', status: 500 });
  });

  it('repo_not_started', () => {
    const hz = cleanHealthz();
    const verdict = healthVerdict(input({ healthz: ok({ ...hz, store: { ...hz.store, 'repo_started?': false } }) }));
    expect(verdict.failing).toEqual([
      expect.objectContaining({ condition: 'repo_not_started', measured: false, expected: true }),
    ]);
  });

  it('projection_stale and pending_events name the projection and its values', () => {
    const ph = sampleProjectionHealth();
    const verdict = healthVerdict(input({ projectionHealth: ok({ ...ph, open_runs: [] }), botJobIds: [] }));
    const stale = verdict.failing.find((f) => f.condition === 'projection_stale');
    const pending = verdict.failing.find((f) => f.condition === 'pending_events');
    expect(stale).toMatchObject({ measured: { trace_summary: 2150 }, expected: { last_log_seq: 2168 } });
    expect(stale?.detail).toContain('trace_summary at log_seq 2150');
    expect(pending).toMatchObject({ measured: { trace_summary: 18 }, expected: 0 });
  });

  it('open_failures', () => {
    const verdict = healthVerdict(input({ projectionHealth: ok({ ...sampleProjectionHealth(), open_runs: [] }) }));
    expect(verdict.failing.find((f) => f.condition === 'open_failures')).toMatchObject({
      measured: { precedent_index: 1 },
      expected: 0,
      detail: 'open projection failures: precedent_index 1',
    });
  });

  it('open_runs fails for runs the bot did not start, not for its own', () => {
    const ph = cleanProjectionHealth();
    const first = sampleProjectionHealth().open_runs[0];
    if (!first) throw new Error('fixture needs an open run');
    const run = { ...first, status: 'queued' as const };
    const withRun = { ...ph, open_runs: [run] };
    const hz = cleanHealthz();
    const busy = { ...hz, projector: { ...hz.projector, active_replay_jobs: 1 } };

    const foreign = healthVerdict(input({ healthz: ok(busy), projectionHealth: ok(withRun) }));
    expect(conditions(foreign)).toEqual(['open_runs']);
    expect(foreign.failing[0]?.detail).toContain('replay-5763');

    const own = healthVerdict(input({ healthz: ok(busy), projectionHealth: ok(withRun), botJobIds: ['replay-5763'] }));
    expect(own.healthy).toBe(true);
  });

  it('orphaned_runs: a run marked running while DecisionGraph has no live replay job', () => {
    const ph = { ...cleanProjectionHealth(), open_runs: sampleProjectionHealth().open_runs };
    const verdict = healthVerdict(input({ projectionHealth: ok(ph), botJobIds: ['replay-5763'] }));
    expect(verdict.failing).toEqual([
      expect.objectContaining({
        condition: 'orphaned_runs',
        measured: {
          running: [{ job_id: 'replay-5763', projection_name: 'all', mode: 'catch_up', status: 'running' }],
          active_replay_jobs: 0,
        },
      }),
    ]);

    const hz = cleanHealthz();
    const live = healthVerdict(
      input({
        healthz: ok({ ...hz, projector: { ...hz.projector, active_replay_jobs: 1 } }),
        projectionHealth: ok(ph),
        botJobIds: ['replay-5763'],
      }),
    );
    expect(live.healthy).toBe(true);
  });

  it('orphaned_runs also sees running rows of other tenants from SQL', () => {
    const verdict = healthVerdict(
      input({
        sql: {
          cursorAhead: [],
          openRuns: [
            {
              job_id: 'replay-12',
              tenant_id: 'acme',
              projection_name: 'trace_summary',
              mode: 'rebuild',
              status: 'running',
            },
          ],
        },
      }),
    );
    expect(conditions(verdict)).toEqual(['orphaned_runs']);
    expect(verdict.failing[0]?.detail).toContain('replay-12 (acme/trace_summary rebuild running)');
  });

  it('cursor_ahead from the SQL check, with bigint strings as pg returns them', () => {
    const verdict = healthVerdict(
      input({
        sql: {
          openRuns: [],
          cursorAhead: [{ tenant_id: 'default', projection_name: 'context_graph', last_log_seq: '2300', tail: '2168' }],
        },
      }),
    );
    expect(verdict.failing).toEqual([
      {
        condition: 'cursor_ahead',
        detail: 'projection cursor ahead of the event log tail: default/context_graph at 2300 > tail 2168',
        measured: [{ tenant_id: 'default', projection_name: 'context_graph', last_log_seq: 2300, tail: 2168 }],
        expected: 'every cursor <= its tenant tail',
      },
    ]);
  });

  it('projection_health_error when the authenticated read fails, e.g. 403 wrong tenant', () => {
    const verdict = healthVerdict(
      input({
        projectionHealth: {
          ok: false,
          error: { code: 'DG_ERR_API_FORBIDDEN', message: 'Service account cannot access tenant acme', status: 403 },
        },
      }),
    );
    expect(conditions(verdict)).toEqual(['projection_health_error']);
    expect(verdict.unchecked).toEqual(expect.arrayContaining(['projection_stale', 'pending_events', 'open_runs']));
  });

  it('without SQL facts, cursor_ahead is reported unchecked rather than passed', () => {
    const verdict = healthVerdict(input({ sql: undefined }));
    expect(verdict.healthy).toBe(true);
    expect(verdict.unchecked).toEqual(['cursor_ahead']);
  });

  it('reports every failing condition at once for the §3.2 sample', () => {
    const verdict = healthVerdict(input({ projectionHealth: ok(sampleProjectionHealth()) }));
    expect(conditions(verdict)).toEqual([
      'projection_stale',
      'pending_events',
      'open_failures',
      'open_runs',
      'orphaned_runs',
    ]);
  });
});
