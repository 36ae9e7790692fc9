import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { canonicalJson } from '../db/canonical-json.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';

export interface FailureInput {
  tenantId: string;
  projection: string;
  logSeq: number;
  traceId: string;
  eventId: string;
  errorCode: string;
  errorMessage: string;
  recoverable: boolean;
  retryCount: number;
  processedEvents: number;
}

/** One open `dg_projection_failures` row, shaped as DecisionGraph's live worker writes it (no dedupe). */
export async function recordFailure(pool: pg.Pool, clock: SimClock, f: FailureInput): Promise<void> {
  await pool.query(
    `INSERT INTO dg_projection_failures (id, tenant_id, projection_name, log_seq, trace_id, event_id, error_code,
       error_message, recoverable, retry_count, status, metadata_json, recorded_at, resolved_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, NULL)`,
    [
      randomUUID(),
      f.tenantId,
      f.projection,
      f.logSeq,
      f.traceId,
      f.eventId,
      f.errorCode,
      f.errorMessage,
      f.recoverable,
      f.retryCount,
      canonicalJson({ processed_events: f.processedEvents, recoverable: f.recoverable }),
      rfc3339(clock.now()),
    ],
  );
}
