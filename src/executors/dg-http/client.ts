import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ErrorCode } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { ApiTimeoutError, ContractViolationError, type DgApiErrorContext } from './api-errors.js';
import type { DgCallEvidence, DgCallResult } from './evidence.js';
import { type CallBudget, RateBudget, type RateBudgetKey, scopeForRoute } from './rate-budget.js';
import { interpretResponse } from './response-mapping.js';
import {
  type GraphContext,
  GraphContextSchema,
  type Healthz,
  HealthzSchema,
  PROJECTION_NAMES,
  type ProjectionHealth,
  ProjectionHealthSchema,
  type ReplayMode,
  type ReplayProjection,
  type ReplayRun,
  ReplayRunEnvelopeDataSchema,
  successEnvelope,
  type Trace,
  TraceSchema,
  type WorkflowDetail,
  WorkflowDetailSchema,
  type WorkflowList,
  WorkflowListSchema,
} from './schemas.js';
import { classifyTransportError } from './transport-errors.js';

/** How long each phase of a call may take. */
export interface DgHttpTimeouts {
  /** TCP connect. Applies only to the client's own agent (an injected dispatcher brings its own). @defaultValue 3000 */
  readonly connectMs: number;
  /** From sending the request to the complete response headers. @defaultValue 10000 */
  readonly headersMs: number;
  /** Longest gap between two body chunks. @defaultValue 30000 */
  readonly bodyMs: number;
}

export const DEFAULT_DG_HTTP_TIMEOUTS: Readonly<DgHttpTimeouts> = Object.freeze({
  connectMs: 3_000,
  headersMs: 10_000,
  bodyMs: 30_000,
});

/** An undici agent with explicit timeouts; undici's own defaults (300 s) are far too long for a runbook step. */
export function createDgAgent(timeouts: Partial<DgHttpTimeouts> = {}): Agent {
  const t = { ...DEFAULT_DG_HTTP_TIMEOUTS, ...timeouts };
  return new Agent({ connect: { timeout: t.connectMs }, headersTimeout: t.headersMs, bodyTimeout: t.bodyMs });
}

export interface DgHttpClientOptions {
  /** DecisionGraph's base URL, e.g. `http://127.0.0.1:4100` (a path prefix is kept). */
  readonly baseUrl: string;
  /** Tenant sent as `x-tenant-id` unless a call overrides it. @defaultValue `default` */
  readonly tenantId?: string;
  /** Bearer token for reader and writer routes. */
  readonly apiToken: string;
  /** Bearer token for `/api/v1/admin/**`. @defaultValue `apiToken` */
  readonly adminToken?: string | undefined;
  /** Dispatcher to send through; the caller closes it. @defaultValue an own agent from {@link createDgAgent} */
  readonly dispatcher?: Dispatcher;
  /** @defaultValue {@link DEFAULT_DG_HTTP_TIMEOUTS} */
  readonly timeouts?: Partial<DgHttpTimeouts>;
  /**
   * Client-side mirror of the server's rate limiter; `null` sends without budgeting. Share one instance between
   * clients that use the same accounts and tenants, and match its limits to the server's if they differ.
   * @defaultValue a fresh {@link RateBudget} with DecisionGraph's default limits
   */
  readonly rateBudget?: CallBudget | null;
  /** Wall clock for `attemptedAt`. @defaultValue `Date.now` */
  readonly now?: () => number;
  /** Generator of `x-request-id` values. @defaultValue `dgr-` + 12 random base64url characters */
  readonly newRequestId?: () => string;
  /** Larger responses are cut off and reported as a contract violation. @defaultValue 8 MiB */
  readonly maxResponseBytes?: number;
  /** Receives one debug line per call with its evidence (never tokens or bodies). @defaultValue none */
  readonly logger?: Logger;
  /** Told of every call once it ended, with its evidence and error code (metrics). @defaultValue none */
  readonly onCall?: DgCallObserver;
}

/** Sees each DecisionGraph call's evidence and, for a failure, its error code. */
export type DgCallObserver = (evidence: DgCallEvidence, errorCode: string | null) => void;

/** Per-call options. */
export interface DgCallOptions {
  /** Tenant for this call. @defaultValue the client's `tenantId` */
  readonly tenantId?: string;
  /** Aborting it ends the call (or its rate-budget wait) with {@link ApiTimeoutError} phase `aborted`. */
  readonly signal?: AbortSignal;
  /** `x-request-id` to send. @defaultValue a fresh one */
  readonly requestId?: string;
}

export interface GraphContextQuery {
  readonly nodeType: string;
  readonly nodeId: string;
  /** 0–10. @defaultValue server's 1 */
  readonly maxDepth?: number;
  /** @defaultValue server's 100 */
  readonly maxNodes?: number;
  /** @defaultValue server's 100 */
  readonly maxEdges?: number;
  readonly edgeTypes?: readonly string[];
  readonly nodeTypes?: readonly string[];
}

export interface WorkflowFilters {
  readonly status?: string;
  readonly assignedAccountId?: string;
  readonly assignedRole?: string;
  readonly priority?: string;
  readonly traceId?: string;
  /** @defaultValue server's true */
  readonly onlyOpen?: boolean;
  /** @defaultValue server's false */
  readonly onlyOverdue?: boolean;
  /** 1–50. @defaultValue server's 12 */
  readonly limit?: number;
}

export interface StartReplayRequest {
  readonly mode: ReplayMode;
  readonly projection: ReplayProjection;
  /** Required by DecisionGraph's default admin controls; recorded in the run's metadata. */
  readonly reason: string;
  /** Extra metadata recorded with the run; integers only (floats crash the server's coordinator). */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Recorded only: catch_up always starts at the durable cursor. */
  readonly sinceLogSeq?: number;
  /** Caps the run. */
  readonly untilLogSeq?: number;
}

type Auth = 'none' | 'api' | 'admin';

interface CallSpec<S extends z.ZodType, T> {
  readonly method: 'GET' | 'POST';
  readonly endpoint: string;
  readonly path: string;
  readonly query?: URLSearchParams;
  readonly body?: unknown;
  readonly auth: Auth;
  readonly schema: S;
  readonly pick: (parsed: z.output<S>) => T;
}

const REPLAY_PROJECTIONS: ReadonlySet<string> = new Set([...PROJECTION_NAMES, 'all']);
const REPLAY_MODES: ReadonlySet<string> = new Set(['catch_up', 'rebuild']);

/**
 * DecisionGraph's HTTP API, one typed method per route the runbook uses. Every method resolves with a
 * {@link DgCallResult}: `{ok: true, data, evidence}` or `{ok: false, error, evidence}`; only misuse (invalid
 * arguments, a closed client) throws.
 */
export class DgHttpClient {
  readonly tenantId: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly apiToken: string;
  private readonly adminToken: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeouts: DgHttpTimeouts;
  private readonly connectTimeoutKnown: boolean;
  private readonly rateBudget: CallBudget | null;
  private readonly onCall: DgCallObserver | undefined;
  private readonly now: () => number;
  private readonly newRequestId: () => string;
  private readonly maxResponseBytes: number;
  private readonly logger: Logger | undefined;
  private readonly fingerprints = new Map<string, string>();

  constructor(options: DgHttpClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('baseUrl must be http(s)');
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    if (!options.apiToken) throw new TypeError('apiToken is required');
    this.apiToken = options.apiToken;
    this.adminToken = options.adminToken || options.apiToken;
    this.tenantId = checkTenant(options.tenantId ?? 'default');
    this.timeouts = { ...DEFAULT_DG_HTTP_TIMEOUTS, ...options.timeouts };
    this.connectTimeoutKnown = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? createDgAgent(this.timeouts);
    this.ownsDispatcher = options.dispatcher === undefined;
    this.rateBudget = options.rateBudget === undefined ? new RateBudget() : options.rateBudget;
    this.onCall = options.onCall;
    this.now = options.now ?? Date.now;
    this.newRequestId = options.newRequestId ?? (() => `dgr-${randomBytes(9).toString('base64url')}`);
    this.maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    this.logger = options.logger;
  }

  /** `GET /api/healthz`: open, unversioned, not rate limited; no token or tenant is sent. */
  healthz(options: Omit<DgCallOptions, 'tenantId'> = {}): Promise<DgCallResult<Healthz>> {
    return this.call(
      { method: 'GET', endpoint: 'GET /api/healthz', path: '/api/healthz', auth: 'none', schema: HealthzSchema, pick },
      options,
    );
  }

  /** `GET /api/v1/projections/health` (reader). */
  projectionHealth(options: DgCallOptions = {}): Promise<DgCallResult<ProjectionHealth>> {
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/projections/health',
        path: '/api/v1/projections/health',
        auth: 'api',
        schema: successEnvelope(ProjectionHealthSchema),
        pick: pickData,
      },
      options,
    );
  }

  /** `GET /api/v1/traces/:trace_id` (reader); 409 projection_out_of_date while trace_summary is behind. */
  getTrace(traceId: string, options: DgCallOptions = {}): Promise<DgCallResult<Trace>> {
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/traces/:trace_id',
        path: `/api/v1/traces/${segment(traceId, 'traceId')}`,
        auth: 'api',
        schema: successEnvelope(TraceSchema),
        pick: pickData,
      },
      options,
    );
  }

  /** `GET /api/v1/graph/context` (reader); 409 while context_graph is behind. */
  graphContext(query: GraphContextQuery, options: DgCallOptions = {}): Promise<DgCallResult<GraphContext>> {
    const q = new URLSearchParams();
    q.set('node_type', nonEmpty(query.nodeType, 'nodeType'));
    q.set('node_id', nonEmpty(query.nodeId, 'nodeId'));
    setInt(q, 'max_depth', query.maxDepth, 0, 10);
    setInt(q, 'max_nodes', query.maxNodes, 1);
    setInt(q, 'max_edges', query.maxEdges, 1);
    if (query.edgeTypes?.length) q.set('edge_types', query.edgeTypes.join(','));
    if (query.nodeTypes?.length) q.set('node_types', query.nodeTypes.join(','));
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/graph/context',
        path: '/api/v1/graph/context',
        query: q,
        auth: 'api',
        schema: successEnvelope(GraphContextSchema),
        pick: pickData,
      },
      options,
    );
  }

  /** `GET /api/v1/workflows` (reader). Note: DecisionGraph writes to its workflow tables on every workflow read. */
  listWorkflows(filters: WorkflowFilters = {}, options: DgCallOptions = {}): Promise<DgCallResult<WorkflowList>> {
    const q = new URLSearchParams();
    if (filters.status !== undefined) q.set('status', filters.status);
    if (filters.assignedAccountId !== undefined) q.set('assigned_account_id', filters.assignedAccountId);
    if (filters.assignedRole !== undefined) q.set('assigned_role', filters.assignedRole);
    if (filters.priority !== undefined) q.set('priority', filters.priority);
    if (filters.traceId !== undefined) q.set('trace_id', filters.traceId);
    if (filters.onlyOpen !== undefined) q.set('only_open', String(filters.onlyOpen));
    if (filters.onlyOverdue !== undefined) q.set('only_overdue', String(filters.onlyOverdue));
    setInt(q, 'limit', filters.limit, 1, 50);
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/workflows',
        path: '/api/v1/workflows',
        query: q,
        auth: 'api',
        schema: successEnvelope(WorkflowListSchema),
        pick: pickData,
      },
      options,
    );
  }

  /** `GET /api/v1/workflows/:workflow_id` (reader). */
  getWorkflow(workflowId: string, options: DgCallOptions = {}): Promise<DgCallResult<WorkflowDetail>> {
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/workflows/:workflow_id',
        path: `/api/v1/workflows/${segment(workflowId, 'workflowId')}`,
        auth: 'api',
        schema: successEnvelope(WorkflowDetailSchema),
        pick: pickData,
      },
      options,
    );
  }

  /** `POST /api/v1/admin/replays` (admin + projection_replay/projection_rebuild); 202 with the run, `queued`. */
  startReplay(request: StartReplayRequest, options: DgCallOptions = {}): Promise<DgCallResult<ReplayRun>> {
    if (!REPLAY_MODES.has(request.mode)) throw new TypeError('mode must be catch_up or rebuild');
    if (!REPLAY_PROJECTIONS.has(request.projection)) {
      throw new TypeError(`projection must be one of ${[...REPLAY_PROJECTIONS].join(', ')}`);
    }
    const body: Record<string, unknown> = {
      mode: request.mode,
      projection: request.projection,
      reason: nonEmpty(request.reason, 'reason'),
    };
    if (request.metadata !== undefined) {
      if (request.metadata === null || typeof request.metadata !== 'object' || Array.isArray(request.metadata)) {
        throw new TypeError('metadata must be an object');
      }
      assertNoFloats(request.metadata, 'metadata');
      body.metadata = request.metadata;
    }
    if (request.sinceLogSeq !== undefined) body.since_log_seq = checkInt(request.sinceLogSeq, 'sinceLogSeq', 0);
    if (request.untilLogSeq !== undefined) body.until_log_seq = checkInt(request.untilLogSeq, 'untilLogSeq', 0);
    return this.call(
      {
        method: 'POST',
        endpoint: 'POST /api/v1/admin/replays',
        path: '/api/v1/admin/replays',
        body,
        auth: 'admin',
        schema: successEnvelope(ReplayRunEnvelopeDataSchema),
        pick: pickRun,
      },
      options,
    );
  }

  /** `GET /api/v1/admin/replays/:job_id` (admin); counts against the admin budget (60/min by default). */
  getReplay(jobId: string, options: DgCallOptions = {}): Promise<DgCallResult<ReplayRun>> {
    return this.call(
      {
        method: 'GET',
        endpoint: 'GET /api/v1/admin/replays/:job_id',
        path: `/api/v1/admin/replays/${segment(jobId, 'jobId')}`,
        auth: 'admin',
        schema: successEnvelope(ReplayRunEnvelopeDataSchema),
        pick: pickRun,
      },
      options,
    );
  }

  /** `POST /api/v1/admin/replays/:job_id/cancel` (admin); 404 for runs not live in DecisionGraph's memory. */
  cancelReplay(jobId: string, options: DgCallOptions = {}): Promise<DgCallResult<ReplayRun>> {
    return this.call(
      {
        method: 'POST',
        endpoint: 'POST /api/v1/admin/replays/:job_id/cancel',
        path: `/api/v1/admin/replays/${segment(jobId, 'jobId')}/cancel`,
        auth: 'admin',
        schema: successEnvelope(ReplayRunEnvelopeDataSchema),
        pick: pickRun,
      },
      options,
    );
  }

  /** Closes the client's own agent; an injected dispatcher is left to its owner. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async call<S extends z.ZodType, T>(spec: CallSpec<S, T>, options: DgCallOptions): Promise<DgCallResult<T>> {
    const signal = options.signal;
    const tenantId = spec.auth === 'none' ? null : checkTenant(options.tenantId ?? this.tenantId);
    const path = spec.query?.size ? `${spec.path}?${spec.query.toString()}` : spec.path;
    const sentRequestId = options.requestId ?? this.newRequestId();
    const token = spec.auth === 'admin' ? this.adminToken : spec.auth === 'api' ? this.apiToken : null;
    const scope = scopeForRoute(spec.method, spec.path);
    const budgetKey: RateBudgetKey | null =
      scope && tenantId !== null && token !== null ? { scope, account: this.fingerprint(token), tenantId } : null;
    const base = { endpoint: spec.endpoint, method: spec.method, path, tenantId, scope, sentRequestId };
    const context = (status: number | null, requestId: string | null): DgApiErrorContext => ({
      endpoint: spec.endpoint,
      method: spec.method,
      path,
      status,
      requestId,
    });

    let rateWaitMs = 0;
    if (budgetKey && this.rateBudget) {
      const waitStart = performance.now();
      try {
        rateWaitMs = await this.rateBudget.acquire(budgetKey, signal);
      } catch (err) {
        if (!signal?.aborted) throw err;
        const error = new ApiTimeoutError({ ...context(null, null), cause: err, phase: 'aborted', timeoutMs: null });
        return this.finish({
          ok: false,
          error,
          evidence: evidenceOf(base, {
            status: null,
            requestId: null,
            attemptedAt: this.now(),
            latencyMs: 0,
            rateWaitMs: performance.now() - waitStart,
          }),
        });
      }
    }

    const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': sentRequestId };
    if (token !== null && tenantId !== null) {
      headers.authorization = `Bearer ${token}`;
      headers['x-tenant-id'] = tenantId;
    }
    let body: string | null = null;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }

    const attemptedAt = this.now();
    const started = performance.now();
    let status: number | null = null;
    let returnedRequestId: string | null = null;
    let contentType: string | null = null;
    let text: string | null;
    try {
      const response = await this.dispatcher.request({
        origin: this.origin,
        path: `${this.basePath}${path}`,
        method: spec.method,
        headers,
        body,
        headersTimeout: this.timeouts.headersMs,
        bodyTimeout: this.timeouts.bodyMs,
        signal: signal ?? null,
      });
      status = response.statusCode;
      returnedRequestId = headerValue(response.headers['x-request-id']);
      contentType = headerValue(response.headers['content-type']);
      text = await readCapped(response.body, this.maxResponseBytes);
    } catch (err) {
      const latencyMs = performance.now() - started;
      const error = classifyTransportError(
        err,
        context(status, returnedRequestId),
        { ...this.timeouts, connectMs: this.connectTimeoutKnown ? this.timeouts.connectMs : null },
        signal,
      );
      return this.finish({
        ok: false,
        error,
        evidence: evidenceOf(base, { status, requestId: returnedRequestId, attemptedAt, latencyMs, rateWaitMs }),
      });
    }
    const latencyMs = performance.now() - started;

    if (text === null) {
      const error = new ContractViolationError({
        ...context(status, returnedRequestId),
        issues: [{ path: '(body)', message: `larger than ${this.maxResponseBytes} bytes` }],
      });
      return this.finish({
        ok: false,
        error,
        evidence: evidenceOf(base, { status, requestId: returnedRequestId, attemptedAt, latencyMs, rateWaitMs }),
      });
    }

    const outcome = interpretResponse({ status, contentType, text }, spec.schema, context(status, returnedRequestId));
    const evidence = evidenceOf(base, {
      status,
      requestId: returnedRequestId ?? outcome.envelopeRequestId,
      attemptedAt,
      latencyMs,
      rateWaitMs,
    });
    if (!outcome.ok) {
      // The server's count for this window is ahead of ours (another client, or our own restart).
      if (outcome.error.code === ErrorCode.ApiRateLimited && budgetKey) this.rateBudget?.exhaust(budgetKey);
      return this.finish({ ok: false, error: outcome.error, evidence });
    }
    return this.finish({ ok: true, data: spec.pick(outcome.data), evidence });
  }

  private finish<T>(result: DgCallResult<T>): DgCallResult<T> {
    this.onCall?.(result.evidence, result.ok ? null : result.error.code);
    if (this.logger) {
      const e = result.evidence;
      this.logger.debug(
        {
          dg: {
            endpoint: e.endpoint,
            path: e.path,
            tenantId: e.tenantId,
            status: e.status,
            requestId: e.requestId,
            latencyMs: e.latencyMs,
            rateWaitMs: e.rateWaitMs,
          },
          errCode: result.ok ? undefined : result.error.code,
        },
        'decisiongraph call',
      );
    }
    return result;
  }

  private fingerprint(token: string): string {
    let fp = this.fingerprints.get(token);
    if (fp === undefined) {
      fp = createHash('sha256').update(token).digest('hex').slice(0, 16);
      this.fingerprints.set(token, fp);
    }
    return fp;
  }
}

function pick<T>(parsed: T): T {
  return parsed;
}

function pickData<T>(parsed: { data: T }): T {
  return parsed.data;
}

function pickRun(parsed: { data: { run: ReplayRun } }): ReplayRun {
  return parsed.data.run;
}

function evidenceOf(
  base: Pick<DgCallEvidence, 'endpoint' | 'method' | 'path' | 'tenantId' | 'scope' | 'sentRequestId'>,
  measured: {
    status: number | null;
    requestId: string | null;
    attemptedAt: number;
    latencyMs: number;
    rateWaitMs: number;
  },
): DgCallEvidence {
  return Object.freeze({
    ...base,
    status: measured.status,
    requestId: measured.requestId,
    attemptedAt: new Date(measured.attemptedAt).toISOString(),
    latencyMs: Math.round(measured.latencyMs * 10) / 10,
    rateWaitMs: Math.round(measured.rateWaitMs),
  });
}

/** Reads the whole body (so the socket can be reused), or destroys it and returns null past `max` bytes. */
async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > max) {
      body.destroy();
      return null;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function headerValue(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  const trimmed = v?.trim();
  return trimmed ? trimmed : null;
}

function checkTenant(tenantId: string): string {
  if (typeof tenantId !== 'string' || !/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(tenantId)) {
    throw new TypeError('tenantId must be non-empty printable ASCII without surrounding spaces');
  }
  return tenantId;
}

function nonEmpty(value: string, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function segment(value: string, name: string): string {
  return encodeURIComponent(nonEmpty(value, name));
}

function checkInt(value: number, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function setInt(q: URLSearchParams, key: string, value: number | undefined, min: number, max?: number): void {
  if (value !== undefined) q.set(key, String(checkInt(value, key, min, max)));
}

function assertNoFloats(value: unknown, path: string): void {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TypeError(`${path} must hold integers only (DecisionGraph rejects floats)`);
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) assertNoFloats(v, `${path}.${k}`);
  }
}
