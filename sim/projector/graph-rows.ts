import { canonicalJson } from '../db/canonical-json.js';
import type { VerifiedEvent } from './verify.js';

export interface NodeRow {
  tenant_id: string;
  node_id: string;
  node_type: string;
  trace_id: string;
  log_seq: number;
  created_at: string;
  metadata_json: string;
}

export interface EdgeRow {
  tenant_id: string;
  edge_id: string;
  edge_type: string;
  from_node_id: string;
  to_node_id: string;
  trace_id: string;
  log_seq: number;
  created_at: string;
  metadata_json: string;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function obj(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined && typeof source[k] !== 'object') out[k] = source[k];
  return out;
}

/** The context-graph nodes and edges one event contributes (first writer of a node wins). */
export function graphRows(ev: VerifiedEvent): { nodes: NodeRow[]; edges: EdgeRow[] } {
  const { row, payload } = ev;
  const nodes: NodeRow[] = [];
  const edges: EdgeRow[] = [];
  const base = { tenant_id: row.tenant_id, trace_id: row.trace_id, log_seq: row.log_seq, created_at: row.recorded_at };
  const traceNode = `trace:${row.trace_id}`;
  const node = (type: string, key: string, attrs: Record<string, unknown> = {}): string => {
    const id = `${type}:${key}`;
    nodes.push({ ...base, node_id: id, node_type: type, metadata_json: canonicalJson(attrs) });
    return id;
  };
  const edge = (type: string, from: string, to: string, attrs: Record<string, unknown> = {}) => {
    edges.push({
      ...base,
      edge_id: `${row.event_id}:${type}`,
      edge_type: type,
      from_node_id: from,
      to_node_id: to,
      metadata_json: canonicalJson(attrs),
    });
  };
  const entityNode = (entity: Record<string, unknown> | null): string | null => {
    const type = str(entity?.type);
    const id = str(entity?.id);
    if (!entity || !type || !id) return null;
    return node(type, id, pick(entity, ['system']));
  };

  switch (row.event_type) {
    case 'TraceStarted': {
      node('trace', row.trace_id, pick(payload, ['title', 'workflow']));
      const entity = entityNode(obj(payload.primary_entity));
      if (entity) edge('primary_entity', traceNode, entity);
      break;
    }
    case 'InputObserved': {
      const input = node('input', str(payload.input_id) ?? row.event_id, pick(payload, ['channel']));
      edge('observed_input', traceNode, input);
      break;
    }
    case 'EntityObserved': {
      const entity = entityNode(obj(payload.entity));
      if (entity) edge('observed_entity', traceNode, entity);
      break;
    }
    case 'PolicyEvaluated': {
      const policyId = str(payload.policy_id);
      if (policyId) {
        const policy = node('policy', policyId);
        edge('evaluated_policy', traceNode, policy, pick(payload, ['policy_version', 'result']));
      }
      break;
    }
    case 'ExceptionRequested': {
      const exception = node('exception', str(payload.exception_id) ?? row.event_id, pick(payload, ['reason']));
      edge('requested_exception', traceNode, exception);
      const policyId = str(payload.policy_id);
      if (policyId) edge('exception_to_policy', exception, node('policy', policyId), pick(payload, ['policy_version']));
      break;
    }
    case 'ApprovalRecorded': {
      const exceptionId = str(payload.exception_id);
      if (exceptionId)
        edge('approval_recorded', traceNode, node('exception', exceptionId), pick(payload, ['decision']));
      break;
    }
    case 'PrecedentCited': {
      const precedent = str(payload.precedent_trace_id);
      if (precedent) edge('cites_precedent', traceNode, node('trace', precedent), pick(payload, ['relevance']));
      break;
    }
    case 'ActionProposed':
    case 'ActionCommitted': {
      const actionId = str(payload.action_id);
      if (actionId) {
        const action = node('action', actionId, pick(payload, ['action_type']));
        const type = row.event_type === 'ActionProposed' ? 'proposed_action' : 'committed_action';
        edge(type, traceNode, action, pick(payload, ['status']));
      }
      break;
    }
    default:
      break;
  }
  return { nodes, edges };
}
