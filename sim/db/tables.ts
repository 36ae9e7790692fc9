/**
 * Every table of DecisionGraph's database (contract §5: migrations 0100…0600), the event log first: what a backup
 * copies and a restore replaces, as `pg_dump` / `pg_restore --clean` of the whole database would.
 */
export const SIM_TABLES = [
  // §5.1, authoritative
  'dg_event_log',
  // §5.2, projection runtime
  'dg_projection_cursors',
  'dg_projection_digests',
  'dg_projection_failures',
  'dg_projection_runs',
  // §5.2, derived per tenant
  'dg_cg_nodes',
  'dg_cg_edges',
  'dg_trace_summary',
  'dg_policy_eval_index',
  'dg_precedent_index',
  // §5.2, workflow
  'dg_workflow_runtime',
  'dg_workflow_items',
  'dg_workflow_actions',
  'dg_workflow_notifications',
] as const;
