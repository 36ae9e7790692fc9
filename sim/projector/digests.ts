import type pg from 'pg';
import { sha256Hex } from '../db/canonical-json.js';
import type { SimClock } from '../util/clock.js';
import { rfc3339 } from '../util/time.js';
import { PROJECTIONS, type ProjectionName } from './names.js';

// Each row is reduced to the md5 of a fixed column list and the digest is the SHA-256 of those row hashes in key
// order: the same rows give the same digest whichever path (live worker, catch_up, rebuild) produced them, and
// the aggregate stays small at any table size.
function rowHashes(table: string, columns: string, key: string): string {
  return `COALESCE((SELECT string_agg(md5(json_build_array(${columns})::text), '' ORDER BY ${key})
    FROM ${table} WHERE tenant_id = $1), '')`;
}

const ROW_HASHES: Record<ProjectionName, string> = {
  context_graph: `${rowHashes(
    'dg_cg_edges',
    'edge_id, edge_type, from_node_id, to_node_id, trace_id, log_seq, created_at, metadata_json',
    'edge_id',
  )} || ':' || ${rowHashes('dg_cg_nodes', 'node_id, node_type, trace_id, log_seq, created_at, metadata_json', 'node_id')}`,
  trace_summary: rowHashes(
    'dg_trace_summary',
    'trace_id, workflow, title, primary_entity_type, primary_entity_id, outcome, started_at, finished_at, event_count, last_log_seq',
    'trace_id',
  ),
  precedent_index: rowHashes(
    'dg_precedent_index',
    'source_event_id, log_seq, trace_id, policy_id, policy_version, exception_id, primary_entity_type, primary_entity_system, primary_entity_id',
    'source_event_id',
  ),
};

function digestSql(projection: ProjectionName): string {
  return `SELECT 'sha256:' || encode(sha256(convert_to(${ROW_HASHES[projection]}, 'UTF8')), 'hex') AS digest`;
}

/** Recomputes every digest of the tenant (the three projections and `full_projection`) inside the caller's tx. */
export async function refreshDigests(client: pg.PoolClient, clock: SimClock, tenantId: string): Promise<void> {
  const cursors = await client.query<{ projection_name: string; last_log_seq: number }>(
    'SELECT projection_name, last_log_seq FROM dg_projection_cursors WHERE tenant_id = $1',
    [tenantId],
  );
  const cursorOf = (p: string) => cursors.rows.find((r) => r.projection_name === p)?.last_log_seq ?? 0;
  const digests: string[] = [];
  const now = rfc3339(clock.now());
  for (const projection of PROJECTIONS) {
    const result = await client.query<{ digest: string }>(digestSql(projection), [tenantId]);
    const digest = result.rows[0]?.digest ?? sha256Hex('');
    digests.push(digest);
    await upsertDigest(client, tenantId, projection, digest, cursorOf(projection), now);
  }
  const full = sha256Hex(digests.join(':'));
  await upsertDigest(client, tenantId, 'full_projection', full, Math.min(...PROJECTIONS.map(cursorOf)), now);
}

async function upsertDigest(
  client: pg.PoolClient,
  tenantId: string,
  name: string,
  digest: string,
  lastLogSeq: number,
  now: string,
): Promise<void> {
  await client.query(
    `INSERT INTO dg_projection_digests (tenant_id, projection_name, digest_value, last_log_seq, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, projection_name)
     DO UPDATE SET digest_value = EXCLUDED.digest_value, last_log_seq = EXCLUDED.last_log_seq,
       updated_at = EXCLUDED.updated_at`,
    [tenantId, name, digest, lastLogSeq, now],
  );
}
