import type pg from 'pg';
import { inTransaction } from '../db/database.js';
import type { SimClock } from '../util/clock.js';
import { PROJECTION_TABLES } from './apply.js';
import { advisoryKey, writeCursor } from './catch-up.js';
import { refreshDigests } from './digests.js';
import type { ProjectionName } from './names.js';

/**
 * The first half of a rebuild, in one transaction: empty the projection's tenant rows, cursor to 0, delete its
 * failure rows, refresh digests. The caller then catches up from 0. The event log is never touched.
 */
export async function resetProjection(
  pool: pg.Pool,
  clock: SimClock,
  tenantId: string,
  projection: ProjectionName,
  readOnly = false,
): Promise<void> {
  await inTransaction(
    pool,
    async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [advisoryKey(tenantId, projection)]);
      for (const table of PROJECTION_TABLES[projection]) {
        await client.query(`DELETE FROM ${table} WHERE tenant_id = $1`, [tenantId]);
      }
      await writeCursor(client, clock, tenantId, projection, 0);
      await client.query('DELETE FROM dg_projection_failures WHERE tenant_id = $1 AND projection_name = $2', [
        tenantId,
        projection,
      ]);
      await refreshDigests(client, clock, tenantId);
    },
    { readOnly },
  );
}
