/** DecisionGraph's tables (contract §5), the event log first. */
export const DECISIONGRAPH_TABLES = [
  'dg_event_log',
  'dg_projection_cursors',
  'dg_projection_digests',
  'dg_projection_failures',
  'dg_projection_runs',
  'dg_cg_nodes',
  'dg_cg_edges',
  'dg_trace_summary',
  'dg_policy_eval_index',
  'dg_precedent_index',
  'dg_workflow_runtime',
  'dg_workflow_items',
  'dg_workflow_actions',
  'dg_workflow_notifications',
] as const;
