import type pg from 'pg';
import { ApiError } from '../http/api-error.js';
import { intParam, listParam, optionalParam, requiredParam } from '../http/params.js';
import type { ApiRequest, Reply } from '../http/router.js';
import type { EdgeRow, NodeRow } from '../projector/graph-rows.js';
import type { SimContext } from '../runtime/context.js';
import { requireCurrent } from './freshness.js';

// Rows as the graph reads select them: the projector's rows without the tenant.
type NodeDbRow = Omit<NodeRow, 'tenant_id'>;
type EdgeDbRow = Omit<EdgeRow, 'tenant_id'>;

function attrs(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}

/** A row as the API shows it: its columns in select order, `metadata_json` parsed into `attrs`. */
function rowJson<T extends { metadata_json: string }>(row: T) {
  const { metadata_json, ...columns } = row;
  return { ...columns, attrs: attrs(metadata_json) };
}

const EDGE_COLUMNS = 'edge_id, edge_type, from_node_id, to_node_id, trace_id, log_seq, created_at, metadata_json';

/** `GET /api/v1/graph/context`: breadth-first neighbourhood of a node, bounded by depth, node and edge budgets. */
export async function graphContext(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const q = req.query;
  const nodeType = requiredParam(q, 'node_type');
  const nodeId = requiredParam(q, 'node_id');
  const maxDepth = intParam(q, 'max_depth', { min: 0, max: 10, fallback: 1 });
  const maxNodes = intParam(q, 'max_nodes', { min: 1, max: 10_000, fallback: 100 });
  const maxEdges = intParam(q, 'max_edges', { min: 1, max: 10_000, fallback: 100 });
  const edgeTypes = listParam(q, 'edge_types');
  const nodeTypes = listParam(q, 'node_types');
  const tenantId = req.principal.tenantId;
  await requireCurrent(ctx.pool, tenantId, 'context_graph');

  const centerId = `${nodeType}:${nodeId}`;
  const nodes = new Map<string, NodeDbRow>();
  const edges = new Map<string, EdgeDbRow>();
  let truncated = false;
  const center = await fetchNodes(ctx.pool, tenantId, [centerId]);
  if (center[0]) nodes.set(centerId, center[0]);
  let frontier = center.length > 0 ? [centerId] : [];
  for (let depth = 0; depth < maxDepth && frontier.length > 0 && !truncated; depth++) {
    const found = await ctx.pool.query<EdgeDbRow>(
      `SELECT ${EDGE_COLUMNS} FROM dg_cg_edges
        WHERE tenant_id = $1 AND (from_node_id = ANY($2::text[]) OR to_node_id = ANY($2::text[]))
          AND ($3::text[] IS NULL OR edge_type = ANY($3::text[]))
        ORDER BY log_seq, edge_id`,
      [tenantId, frontier, edgeTypes],
    );
    const next: string[] = [];
    const candidates = new Set<string>();
    for (const e of found.rows) {
      for (const id of [e.from_node_id, e.to_node_id]) if (!nodes.has(id)) candidates.add(id);
    }
    const neighbours = new Map((await fetchNodes(ctx.pool, tenantId, [...candidates])).map((n) => [n.node_id, n]));
    for (const e of found.rows) {
      if (edges.has(e.edge_id)) continue;
      const ends = [e.from_node_id, e.to_node_id].map((id) => nodes.get(id) ?? neighbours.get(id));
      if (nodeTypes && ends.some((n) => n && !nodeTypes.includes(n.node_type))) continue;
      if (edges.size >= maxEdges) {
        truncated = true;
        break;
      }
      for (const n of ends) {
        if (!n || nodes.has(n.node_id)) continue;
        if (nodes.size >= maxNodes) {
          truncated = true;
          break;
        }
        nodes.set(n.node_id, n);
        next.push(n.node_id);
      }
      if (truncated) break;
      edges.set(e.edge_id, e);
    }
    frontier = next;
  }
  return {
    status: 200,
    data: {
      center: { node_type: nodeType, node_id: nodeId },
      nodes: [...nodes.values()].map(rowJson),
      edges: [...edges.values()].map(rowJson),
      truncated,
    },
  };
}

async function fetchNodes(pool: pg.Pool, tenantId: string, ids: string[]): Promise<NodeDbRow[]> {
  if (ids.length === 0) return [];
  const r = await pool.query<NodeDbRow>(
    `SELECT node_id, node_type, trace_id, log_seq, created_at, metadata_json FROM dg_cg_nodes
      WHERE tenant_id = $1 AND node_id = ANY($2::text[]) ORDER BY node_id`,
    [tenantId, ids],
  );
  return r.rows;
}

/** `GET /api/v1/graph/edges`: a node's edges ordered `log_seq, edge_id`, keyset-paginated. */
export async function graphEdges(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const q = req.query;
  const nodeType = requiredParam(q, 'node_type');
  const nodeId = requiredParam(q, 'node_id');
  const direction = optionalParam(q, 'direction') ?? 'both';
  if (!['both', 'incoming', 'outgoing'].includes(direction)) {
    throw new ApiError('invalid_argument', 'direction must be one of both, incoming, outgoing');
  }
  const limit = intParam(q, 'limit', { min: 1, max: 10_000, fallback: 100 });
  const cursorKey = optionalParam(q, 'cursor_edge_key');
  const cursorSeq = q.has('cursor_log_seq')
    ? intParam(q, 'cursor_log_seq', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 })
    : null;
  const tenantId = req.principal.tenantId;
  await requireCurrent(ctx.pool, tenantId, 'context_graph');

  const id = `${nodeType}:${nodeId}`;
  const side =
    direction === 'outgoing'
      ? 'from_node_id = $2'
      : direction === 'incoming'
        ? 'to_node_id = $2'
        : '(from_node_id = $2 OR to_node_id = $2)';
  const r = await ctx.pool.query<EdgeDbRow>(
    `SELECT ${EDGE_COLUMNS} FROM dg_cg_edges
      WHERE tenant_id = $1 AND ${side}
        AND ($3::bigint IS NULL OR (log_seq, edge_id) > ($3::bigint, COALESCE($4::text, '')))
      ORDER BY log_seq, edge_id LIMIT $5`,
    [tenantId, id, cursorSeq, cursorKey, limit + 1],
  );
  const page = r.rows.slice(0, limit);
  const last = page.at(-1);
  return {
    status: 200,
    data: {
      edges: page.map(rowJson),
      next_cursor: r.rows.length > limit && last ? { edge_key: last.edge_id, direction, log_seq: last.log_seq } : null,
    },
  };
}
