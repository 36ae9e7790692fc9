import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeIssues,
  ErrorEnvelopeSchema,
  FrameworkErrorSchema,
  HealthzSchema,
  isProjectionHealthUnavailable,
  ProjectionHealthSchema,
  ReplayRunEnvelopeDataSchema,
  successEnvelope,
  TraceSchema,
} from '../../../../src/executors/dg-http/schemas.js';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

const ProjectionHealthEnvelope = successEnvelope(ProjectionHealthSchema);
const TraceEnvelope = successEnvelope(TraceSchema);
const ReplayEnvelope = successEnvelope(ReplayRunEnvelopeDataSchema);

function issuePaths(result: { success: boolean; error?: { issues: Parameters<typeof describeIssues>[0] } }) {
  expect(result.success).toBe(false);
  return describeIssues(result.error?.issues ?? []).map((i) => i.path);
}

describe('contract samples parse', () => {
  it('healthz (§3.1) with projection health data, projector and store facts', () => {
    const parsed = HealthzSchema.parse(fixture('healthz.json'));
    expect(parsed.store['repo_started?']).toBe(true);
    expect(parsed.projector.active_replay_jobs).toBe(0);
    expect(parsed.auth?.operator_console_account_id).toBe('admin-main');
    expect(isProjectionHealthUnavailable(parsed.projection_health)).toBe(false);
    if (!isProjectionHealthUnavailable(parsed.projection_health)) {
      expect(parsed.projection_health.projections.map((p) => p.projection_name)).toEqual([
        'context_graph',
        'trace_summary',
        'precedent_index',
      ]);
    }
  });

  it('healthz from an older server without `auth`', () => {
    const body = fixture('healthz.json');
    delete body.auth;
    expect(HealthzSchema.safeParse(body).success).toBe(true);
  });

  it('healthz with projection health unavailable (Postgres down)', () => {
    const body = fixture('healthz.json');
    body.projection_health = { status: 'unavailable', reason: 'connection refused - connect(2) for 127.0.0.1:5432' };
    const parsed = HealthzSchema.parse(body);
    expect(isProjectionHealthUnavailable(parsed.projection_health)).toBe(true);
  });

  it('projection health (§3.2) with a stale projection, an open failure and an open run', () => {
    const parsed = ProjectionHealthEnvelope.parse(fixture('projection-health.json'));
    expect(parsed.request_id).toBe('F6xq0b4yWm2RZk1c');
    const trace = parsed.data.projections.find((p) => p.projection_name === 'trace_summary');
    expect(trace).toMatchObject({ last_log_seq: 2150, pending_events: 18, is_stale: true });
    expect(parsed.data.open_runs[0]).toMatchObject({ job_id: 'replay-5763', status: 'running', until_log_seq: null });
  });

  it('trace (§3.3) with events and summary', () => {
    const parsed = TraceEnvelope.parse(fixture('trace.json'));
    expect(parsed.data.events[0]?.event_type).toBe('TraceStarted');
    expect(parsed.data.summary).toMatchObject({ trace_id: 'trace-demo', finished_at: null, event_count: 1 });
  });

  it('replay run (§3.8) keeps metadata_json as a string and parses it alongside', () => {
    const parsed = ReplayEnvelope.parse(fixture('replay-run.json'));
    const run = parsed.data.run;
    expect(run.status).toBe('queued');
    expect(typeof run.metadata_json).toBe('string');
    expect(run.metadata).toEqual({
      reason: 'close projector lag',
      request_id: 'abc',
      requested_by_account_id: 'admin-main',
      requested_by_roles: ['admin'],
    });
  });

  it('a malformed metadata_json string leaves the run usable with metadata null', () => {
    const body = fixture('replay-run.json');
    (body.data as { run: Record<string, unknown> }).run.metadata_json = '{not json';
    const run = ReplayEnvelope.parse(body).data.run;
    expect(run.metadata_json).toBe('{not json');
    expect(run.metadata).toBeNull();
  });

  it('accepts unknown extra keys and any key order', () => {
    const body = fixture('projection-health.json');
    const data = body.data as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(data).reverse());
    reordered.lag_hint = 'new field';
    (reordered.projections as Record<string, unknown>[])[0] = {
      ...Object.fromEntries(Object.entries((data.projections as Record<string, unknown>[])[0] ?? {}).reverse()),
      worker_status: 'idle',
    };
    expect(ProjectionHealthEnvelope.safeParse({ request_id: 'x', data: reordered, served_by: 'node-1' }).success).toBe(
      true,
    );
  });

  it('error envelope and framework error shapes', () => {
    expect(
      ErrorEnvelopeSchema.safeParse({
        error: { code: 'not_found', details: {}, message: 'Trace not found: t-1' },
        request_id: 'r1',
      }).success,
    ).toBe(true);
    expect(FrameworkErrorSchema.safeParse({ errors: { detail: 'Not Found' } }).success).toBe(true);
  });
});

describe('contract violations name the field', () => {
  it('a float where the contract has an int', () => {
    const body = fixture('projection-health.json');
    (
      (body.data as { projections: Record<string, unknown>[] }).projections[1] as Record<string, unknown>
    ).pending_events = 18.5;
    expect(issuePaths(ProjectionHealthEnvelope.safeParse(body))).toEqual(['data.projections[1].pending_events']);
  });

  it('a missing required field', () => {
    const body = fixture('projection-health.json');
    delete (body.data as Record<string, unknown>).event_log_last_seq;
    expect(issuePaths(ProjectionHealthEnvelope.safeParse(body))).toEqual(['data.event_log_last_seq']);
  });

  it('a missing envelope request_id', () => {
    const body = fixture('trace.json');
    delete body.request_id;
    expect(issuePaths(TraceEnvelope.safeParse(body))).toEqual(['request_id']);
  });

  it('metadata_json sent as an object instead of a string', () => {
    const body = fixture('replay-run.json');
    (body.data as { run: Record<string, unknown> }).run.metadata_json = { reason: 'x' };
    expect(issuePaths(ReplayEnvelope.safeParse(body))).toEqual(['data.run.metadata_json']);
  });

  it('an unknown replay status', () => {
    const body = fixture('replay-run.json');
    (body.data as { run: Record<string, unknown> }).run.status = 'abandoned';
    expect(issuePaths(ReplayEnvelope.safeParse(body))).toEqual(['data.run.status']);
  });

  it('`repo_started?` spelled without the question mark', () => {
    const body = fixture('healthz.json');
    const store = body.store as Record<string, unknown>;
    store.repo_started = store['repo_started?'];
    delete store['repo_started?'];
    expect(issuePaths(HealthzSchema.safeParse(body))).toEqual(['store["repo_started?"]']);
  });

  it('inside projection_health, the branch the server meant is reported, not "invalid union"', () => {
    const dataShape = fixture('healthz.json');
    (dataShape.projection_health as Record<string, unknown>).event_log_last_seq = '2168';
    expect(issuePaths(HealthzSchema.safeParse(dataShape))).toEqual(['projection_health.event_log_last_seq']);

    const unavailable = clone(fixture('healthz.json'));
    unavailable.projection_health = { status: 'unavailable' };
    expect(issuePaths(HealthzSchema.safeParse(unavailable))).toEqual(['projection_health.reason']);
  });

  it('an error envelope whose details is not an object', () => {
    const result = ErrorEnvelopeSchema.safeParse({
      error: { code: 'forbidden', details: null, message: 'nope' },
      request_id: 'r',
    });
    expect(issuePaths(result)).toEqual(['error.details']);
  });
});
