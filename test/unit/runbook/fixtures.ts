import type {
  CallEvidence,
  CallResult,
  HealthzBody,
  OpenRunBody,
  ProjectionHealthBody,
  ReplayRunBody,
} from '../../../src/runbook/index.js';
import { PROJECTIONS, type ProjectionName } from '../../helpers/engine-world.js';

// Contract-shaped measurements (decisiongraph-contract.md §3) for the judges and the fake world.

let requestCounter = 0;

export function callEvidence(method: string, path: string, status: number | null, latencyMs = 4): CallEvidence {
  requestCounter++;
  return { method, path, status, requestId: status === null ? null : `req-${requestCounter}`, latencyMs };
}

export function ok<T>(data: T, method = 'GET', path = '/api/v1/x', status = 200): CallResult<T> {
  return { ok: true, data, evidence: callEvidence(method, path, status) };
}

export function failed<T>(
  code: string,
  status: number | null,
  opts: {
    message?: string;
    transient?: boolean;
    dgCode?: string;
    dgMessage?: string;
    method?: string;
    path?: string;
  } = {},
): CallResult<T> {
  return {
    ok: false,
    error: {
      code,
      message: opts.message ?? opts.dgMessage ?? code,
      transient: opts.transient ?? (status === null || (status !== null && status >= 500) || status === 429),
      ...(opts.dgCode ? { dgCode: opts.dgCode } : {}),
      ...(opts.dgMessage ? { dgMessage: opts.dgMessage } : {}),
    },
    evidence: callEvidence(opts.method ?? 'GET', opts.path ?? '/api/v1/x', status),
  };
}

export function unreachable<T>(path = '/api/healthz'): CallResult<T> {
  return failed('DG_ERR_API_UNREACHABLE', null, { message: 'connect ECONNREFUSED', transient: true, path });
}

export interface HealthShape {
  readonly tail?: number;
  readonly cursors?: Partial<Record<ProjectionName, number>>;
  readonly failures?: Partial<Record<ProjectionName, number>>;
  readonly openRuns?: readonly OpenRunBody[];
  readonly tenant?: string;
}

export function projectionHealth(shape: HealthShape = {}): ProjectionHealthBody {
  const tail = shape.tail ?? 2168;
  return {
    tenant_id: shape.tenant ?? 'default',
    event_log_last_seq: tail,
    projections: PROJECTIONS.map((name) => {
      const cursor = shape.cursors?.[name] ?? tail;
      return {
        projection_name: name,
        last_log_seq: cursor,
        pending_events: Math.max(tail - cursor, 0),
        is_stale: cursor < tail,
        updated_at: '2026-03-07T12:00:01.5Z',
        digest: `sha256:${'a'.repeat(64)}`,
        open_failures: shape.failures?.[name] ?? 0,
      };
    }),
    open_runs: shape.openRuns ?? [],
    full_digest: `sha256:${'b'.repeat(64)}`,
  };
}

export function healthzBody(
  opts: { dbDown?: boolean; repoStarted?: boolean; activeReplayJobs?: number; health?: ProjectionHealthBody } = {},
): HealthzBody {
  return {
    projection_health: opts.dbDown
      ? { status: 'unavailable', reason: 'connection refused' }
      : (opts.health ?? projectionHealth()),
    projector: { active_replay_jobs: opts.activeReplayJobs ?? 0 },
    store: { 'repo_started?': opts.repoStarted ?? true },
  };
}

export function healthz(opts: Parameters<typeof healthzBody>[0] = {}): CallResult<HealthzBody> {
  return ok(healthzBody(opts), 'GET', '/api/healthz');
}

export function replayRun(overrides: Partial<ReplayRunBody> = {}): ReplayRunBody {
  return {
    job_id: 'replay-5763',
    projection_name: 'all',
    mode: 'catch_up',
    status: 'queued',
    processed_events: 0,
    last_log_seq: 0,
    error_code: null,
    error_message: null,
    requested_at: '2026-03-07T12:00:00.123456Z',
    started_at: null,
    finished_at: null,
    ...overrides,
  };
}

export function openRun(overrides: Partial<OpenRunBody> = {}): OpenRunBody {
  return {
    job_id: 'replay-17',
    projection_name: 'all',
    mode: 'catch_up',
    status: 'running',
    requested_at: '2026-03-07T11:00:00Z',
    started_at: '2026-03-07T11:00:01Z',
    processed_events: 120,
    last_log_seq: 1800,
    ...overrides,
  };
}

export const TRACE = {
  events: [{}],
  summary: { trace_id: 'trace-demo', event_count: 3, last_log_seq: 41 },
};

export function traceOk() {
  return ok(TRACE, 'GET', '/api/v1/traces/trace-demo');
}

export function trace409(cursor = 2150, tail = 2168) {
  return failed<typeof TRACE>('DG_ERR_API_PROJECTION_OUT_OF_DATE', 409, {
    dgCode: 'projection_out_of_date',
    dgMessage: `Projections at log_seq=${cursor}, events at ${tail}`,
    transient: true,
    path: '/api/v1/traces/trace-demo',
  });
}

export function trace404() {
  return failed<typeof TRACE>('DG_ERR_API_NOT_FOUND', 404, {
    dgCode: 'not_found',
    dgMessage: 'Trace not found: trace-demo',
    transient: false,
    path: '/api/v1/traces/trace-demo',
  });
}
