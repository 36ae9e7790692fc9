import type pg from 'pg';
import { type EdgeRow, graphRows, type NodeRow } from './graph-rows.js';
import type { ProjectionName } from './names.js';
import type { VerifiedEvent } from './verify.js';

interface SummaryRow {
  tenant_id: string;
  trace_id: string;
  workflow: string | null;
  title: string | null;
  primary_entity_type: string | null;
  primary_entity_system: string | null;
  primary_entity_id: string | null;
  started_at: string | null;
  finished_at: string | null;
  outcome: string | null;
  event_count: number;
  last_log_seq: number;
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function entityOf(payload: Record<string, unknown>): { type: string | null; system: string | null; id: string | null } {
  const e = payload.primary_entity;
  const entity = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {};
  return { type: text(entity.type), system: text(entity.system), id: text(entity.id) };
}

async function applyTraceSummary(client: pg.PoolClient, tenantId: string, events: VerifiedEvent[]): Promise<void> {
  const traceIds = [...new Set(events.map((e) => e.row.trace_id))];
  const existing = await client.query<SummaryRow>(
    'SELECT * FROM dg_trace_summary WHERE tenant_id = $1 AND trace_id = ANY($2::text[])',
    [tenantId, traceIds],
  );
  const rows = new Map(existing.rows.map((r) => [r.trace_id, r]));
  for (const { row, payload } of events) {
    let s = rows.get(row.trace_id);
    if (!s) {
      s = {
        tenant_id: tenantId,
        trace_id: row.trace_id,
        workflow: null,
        title: null,
        primary_entity_type: null,
        primary_entity_system: null,
        primary_entity_id: null,
        started_at: null,
        finished_at: null,
        outcome: null,
        event_count: 0,
        last_log_seq: 0,
      };
      rows.set(row.trace_id, s);
    }
    if (row.event_type === 'TraceStarted') {
      const entity = entityOf(payload);
      s.workflow = text(payload.workflow);
      s.title = text(payload.title);
      s.primary_entity_type = entity.type;
      s.primary_entity_system = entity.system;
      s.primary_entity_id = entity.id;
      s.started_at = row.occurred_at;
    } else if (row.event_type === 'TraceFinished') {
      s.finished_at = row.occurred_at;
      s.outcome = text(payload.outcome);
    }
    s.event_count += 1;
    s.last_log_seq = row.log_seq;
  }
  await client.query(
    `INSERT INTO dg_trace_summary SELECT * FROM json_populate_recordset(NULL::dg_trace_summary, $1::json)
     ON CONFLICT (tenant_id, trace_id) DO UPDATE SET workflow = EXCLUDED.workflow, title = EXCLUDED.title,
       primary_entity_type = EXCLUDED.primary_entity_type, primary_entity_system = EXCLUDED.primary_entity_system,
       primary_entity_id = EXCLUDED.primary_entity_id, started_at = EXCLUDED.started_at,
       finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, event_count = EXCLUDED.event_count,
       last_log_seq = EXCLUDED.last_log_seq`,
    [JSON.stringify([...rows.values()])],
  );
}

async function applyContextGraph(client: pg.PoolClient, events: VerifiedEvent[]): Promise<void> {
  const nodes = new Map<string, NodeRow>();
  const edges = new Map<string, EdgeRow>();
  for (const ev of events) {
    const out = graphRows(ev);
    for (const n of out.nodes) if (!nodes.has(n.node_id)) nodes.set(n.node_id, n);
    for (const e of out.edges) if (!edges.has(e.edge_id)) edges.set(e.edge_id, e);
  }
  if (nodes.size > 0) {
    await client.query(
      `INSERT INTO dg_cg_nodes SELECT * FROM json_populate_recordset(NULL::dg_cg_nodes, $1::json)
       ON CONFLICT (tenant_id, node_id) DO NOTHING`,
      [JSON.stringify([...nodes.values()])],
    );
  }
  if (edges.size > 0) {
    await client.query(
      `INSERT INTO dg_cg_edges SELECT * FROM json_populate_recordset(NULL::dg_cg_edges, $1::json)
       ON CONFLICT (tenant_id, edge_id) DO NOTHING`,
      [JSON.stringify([...edges.values()])],
    );
  }
}

/** The columns both precedent tables start with: the policy event a row was projected from. */
function policyEventColumns(tenantId: string, { row, payload }: VerifiedEvent) {
  return {
    tenant_id: tenantId,
    source_event_id: row.event_id,
    log_seq: row.log_seq,
    trace_id: row.trace_id,
    policy_id: text(payload.policy_id),
    policy_version: text(payload.policy_version),
  };
}

async function applyPrecedentIndex(client: pg.PoolClient, tenantId: string, events: VerifiedEvent[]): Promise<void> {
  const exceptions = events.filter((e) => e.row.event_type === 'ExceptionRequested');
  const evaluations = events.filter((e) => e.row.event_type === 'PolicyEvaluated');
  if (evaluations.length > 0) {
    const rows = evaluations.map((e) => ({ ...policyEventColumns(tenantId, e), result: text(e.payload.result) }));
    await client.query(
      `INSERT INTO dg_policy_eval_index SELECT * FROM json_populate_recordset(NULL::dg_policy_eval_index, $1::json)
       ON CONFLICT (tenant_id, source_event_id) DO NOTHING`,
      [JSON.stringify(rows)],
    );
  }
  if (exceptions.length === 0) return;
  const entities = new Map<string, ReturnType<typeof entityOf>>();
  for (const { row, payload } of events)
    if (row.event_type === 'TraceStarted') entities.set(row.trace_id, entityOf(payload));
  const missing = [...new Set(exceptions.map((e) => e.row.trace_id))].filter((t) => !entities.has(t));
  if (missing.length > 0) {
    const started = await client.query<{ trace_id: string; payload_json: string }>(
      `SELECT trace_id, payload_json FROM dg_event_log
        WHERE tenant_id = $1 AND trace_id = ANY($2::text[]) AND event_type = 'TraceStarted'`,
      [tenantId, missing],
    );
    for (const r of started.rows) {
      try {
        entities.set(r.trace_id, entityOf(JSON.parse(r.payload_json) as Record<string, unknown>));
      } catch {
        // A damaged TraceStarted payload is reported when that event itself is projected.
      }
    }
  }
  const rows = exceptions.map((e) => {
    const { row, payload } = e;
    const entity = entities.get(row.trace_id) ?? { type: null, system: null, id: null };
    return {
      ...policyEventColumns(tenantId, e),
      exception_id: text(payload.exception_id),
      primary_entity_type: entity.type,
      primary_entity_system: entity.system,
      primary_entity_id: entity.id,
    };
  });
  await client.query(
    `INSERT INTO dg_precedent_index SELECT * FROM json_populate_recordset(NULL::dg_precedent_index, $1::json)
     ON CONFLICT (tenant_id, source_event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

export async function applyBatch(
  client: pg.PoolClient,
  projection: ProjectionName,
  tenantId: string,
  events: VerifiedEvent[],
): Promise<void> {
  if (events.length === 0) return;
  switch (projection) {
    case 'trace_summary':
      return applyTraceSummary(client, tenantId, events);
    case 'context_graph':
      return applyContextGraph(client, events);
    case 'precedent_index':
      return applyPrecedentIndex(client, tenantId, events);
  }
}

/** The derived tables each projection owns (a rebuild empties them for the tenant). */
export const PROJECTION_TABLES: Record<ProjectionName, readonly string[]> = {
  context_graph: ['dg_cg_edges', 'dg_cg_nodes'],
  trace_summary: ['dg_trace_summary'],
  precedent_index: ['dg_precedent_index', 'dg_policy_eval_index'],
};
