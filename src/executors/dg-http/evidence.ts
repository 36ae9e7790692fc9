import type { DgApiCallError } from './api-errors.js';
import type { RateScope } from './rate-budget.js';

/**
 * What one DecisionGraph call did, kept for every call, success or not. Holds no token and no body: safe to log,
 * to store in the run journal and to show in Slack.
 */
export interface DgCallEvidence {
  /** Route template, e.g. `GET /api/v1/admin/replays/:job_id`. */
  readonly endpoint: string;
  readonly method: string;
  /** Path and query actually requested, without origin. */
  readonly path: string;
  /** Tenant sent as `x-tenant-id`; `null` for `/api/healthz`, which takes none. */
  readonly tenantId: string | null;
  /** Limiter scope the call counted against; `null` for unlimited routes. */
  readonly scope: RateScope | null;
  /** HTTP status, or `null` when no response arrived. */
  readonly status: number | null;
  /** Request id DecisionGraph returned (header, else envelope); `null` when none came back. */
  readonly requestId: string | null;
  /** Request id the client sent. */
  readonly sentRequestId: string;
  /** When the request was sent (after any rate-budget wait), ISO 8601. */
  readonly attemptedAt: string;
  /** From sending the request to the end of the body, in ms. */
  readonly latencyMs: number;
  /** Time spent waiting for the rate budget before sending, in ms. */
  readonly rateWaitMs: number;
}

/** Outcome of one call: never thrown, always with evidence. */
export type DgCallResult<T> =
  | { readonly ok: true; readonly data: T; readonly evidence: DgCallEvidence }
  | { readonly ok: false; readonly error: DgApiCallError; readonly evidence: DgCallEvidence };
