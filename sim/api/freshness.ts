import type pg from 'pg';
import { ApiError } from '../http/api-error.js';
import { projectionCursor, tenantTail } from '../projector/health.js';

/** DecisionGraph refuses reads of a projection whose cursor is behind the tenant's tail (tenant-wide). */
export async function requireCurrent(pool: pg.Pool, tenantId: string, projection: string): Promise<void> {
  const [tail, cursor] = await Promise.all([tenantTail(pool, tenantId), projectionCursor(pool, tenantId, projection)]);
  if (cursor < tail) {
    throw new ApiError('projection_out_of_date', `Projections at log_seq=${cursor}, events at ${tail}`);
  }
}
