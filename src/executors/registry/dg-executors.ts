import { ErrorCode } from '../../errors.js';
import type {
  GraphReadMeasurement,
  HealthzMeasurement,
  ProjectionHealthMeasurement,
  ReplayPollMeasurement,
  ReplayStartMeasurement,
  TraceReadMeasurement,
  WorkflowInboxMeasurement,
  WorkflowReadMeasurement,
} from '../../runbook/measurements.js';
import type {
  GraphContext,
  ReplayMode,
  ReplayProjection,
  Trace,
  WorkflowDetail,
  WorkflowList,
} from '../dg-http/index.js';
import { callResultOf, pick, same } from './adapters.js';
import type { ExecutorContext } from './context.js';
import { ParamReader, type StepParams } from './params.js';
import { answerLost, findRequestedRun } from './replay-lookup.js';

const REPLAY_MODES: readonly ReplayMode[] = ['catch_up', 'rebuild'];
const REPLAY_PROJECTIONS: readonly ReplayProjection[] = ['all', 'context_graph', 'trace_summary', 'precedent_index'];

// A run's journal keeps measurements; DecisionGraph's event payloads, graph attributes and workflow texts are
// business data that no judge reads, so only identities, sequence numbers and states are kept.

function traceData(data: Trace) {
  return {
    summary: pick(data.summary, [
      'trace_id',
      'workflow',
      'event_count',
      'last_log_seq',
      'started_at',
      'finished_at',
      'outcome',
    ]),
    events: data.events.map((e) => pick(e, ['event_id', 'event_type', 'trace_seq', 'log_seq', 'occurred_at'])),
  };
}

function graphData(data: GraphContext) {
  return {
    center: data.center,
    truncated: data.truncated,
    nodes: data.nodes.map((n) => pick(n, ['node_id', 'node_type', 'trace_id', 'log_seq'])),
    edges: data.edges.map((e) => pick(e, ['edge_id', 'edge_type', 'from_node_id', 'to_node_id', 'log_seq'])),
  };
}

const WORKFLOW_KEYS = [
  'workflow_id',
  'trace_id',
  'workflow_kind',
  'status',
  'priority',
  'overdue',
  'sla_due_at',
  'updated_at',
] as const;

function inboxData(data: WorkflowList) {
  return { summary: data.summary, items: data.items.map((w) => pick(w, WORKFLOW_KEYS)) };
}

function workflowData(data: WorkflowDetail) {
  return { workflow: pick(data.workflow, WORKFLOW_KEYS) };
}

/** `GET /api/healthz`. */
export async function dgHealthz(_params: StepParams, ctx: ExecutorContext): Promise<HealthzMeasurement> {
  return callResultOf(await ctx.dg.healthz({ signal: ctx.signal }), same);
}

/**
 * `GET /api/v1/projections/health` for the run's tenant; with `projector: true` healthz alongside (it has no rate
 * limit), whose worker and replay counts let one reading tell stuck projections.
 */
export async function dgProjectionHealth(
  params: StepParams,
  ctx: ExecutorContext,
): Promise<ProjectionHealthMeasurement> {
  const withProjector = new ParamReader('dg.projection_health', params).optionalBoolean('projector') === true;
  const [health, healthz] = await Promise.all([
    ctx.dg.projectionHealth({ signal: ctx.signal }),
    withProjector ? ctx.dg.healthz({ signal: ctx.signal }) : undefined,
  ]);
  const measurement = callResultOf(health, same);
  if (healthz === undefined) return measurement;
  return {
    ...measurement,
    projector: callResultOf(healthz, (d) => pick(d.projector, ['active_workers', 'active_replay_jobs'])),
  };
}

/** `GET /api/v1/traces/:trace_id`; `traceId` defaults to the deployment's known trace. */
export async function dgTraceRead(params: StepParams, ctx: ExecutorContext): Promise<TraceReadMeasurement> {
  const traceId = new ParamReader('dg.trace_read', params).string('traceId', ctx.known.traceId, 500);
  return callResultOf(await ctx.dg.getTrace(traceId, { signal: ctx.signal }), traceData);
}

/**
 * `GET /api/v1/graph/context` around `nodeType`/`nodeId`; by default the known trace's node, so the graph
 * surface (context_graph) is checked on the same trace the other reads use.
 */
export async function dgGraphRead(params: StepParams, ctx: ExecutorContext): Promise<GraphReadMeasurement> {
  const p = new ParamReader('dg.graph_read', params);
  const nodeType = p.string('nodeType', 'trace', 200);
  const nodeId = p.string('nodeId', p.optionalString('traceId', 500) ?? ctx.known.traceId, 500);
  return callResultOf(await ctx.dg.graphContext({ nodeType, nodeId }, { signal: ctx.signal }), graphData);
}

/** `GET /api/v1/workflows` with DecisionGraph's default filters (open items, 12 of them). */
export async function dgWorkflowInbox(_params: StepParams, ctx: ExecutorContext): Promise<WorkflowInboxMeasurement> {
  return callResultOf(await ctx.dg.listWorkflows({}, { signal: ctx.signal }), inboxData);
}

/** `GET /api/v1/workflows/:workflow_id`; `workflowId` defaults to the deployment's known workflow. */
export async function dgWorkflowRead(params: StepParams, ctx: ExecutorContext): Promise<WorkflowReadMeasurement> {
  const workflowId = new ParamReader('dg.workflow_read', params).string('workflowId', ctx.known.workflowId, 500);
  return callResultOf(await ctx.dg.getWorkflow(workflowId, { signal: ctx.signal }), workflowData);
}

/**
 * `POST /api/v1/admin/replays` with `mode` (default `catch_up`), `projection` and `reason`. The run id goes into
 * the run's metadata, so DecisionGraph's row says who asked. A 409 conflict (a replay already holds the scope) is
 * followed by one projection-health read whose `open_runs` let the judge attach to the run holding it. A request
 * sent whose answer was lost is followed by a search for the run it created (see {@link findRequestedRun}).
 */
export async function dgReplayStart(params: StepParams, ctx: ExecutorContext): Promise<ReplayStartMeasurement> {
  const p = new ParamReader('dg.replay_start', params);
  const request = {
    mode: p.oneOf('mode', REPLAY_MODES, 'catch_up'),
    projection: p.oneOf('projection', REPLAY_PROJECTIONS),
    reason: p.string('reason', undefined, 1000),
  };
  // The request key in the metadata lets a request whose answer was lost find the run it created.
  const requestKey = ctx.idempotencyKey;
  const metadata = { dg_recovery_run_id: ctx.runId, ...(requestKey ? { dg_recovery_request: requestKey } : {}) };
  const started = await ctx.dg.startReplay({ ...request, metadata }, { signal: ctx.signal });
  const result = callResultOf(started, (run) => ({ run }));
  if (!started.ok && requestKey !== undefined && answerLost(started.error)) {
    return { request, result, lookup: await findRequestedRun(ctx, request, requestKey) };
  }
  if (started.ok || started.error.code !== ErrorCode.ApiConflict) return { request, result };
  const health = await ctx.dg.projectionHealth({ signal: ctx.signal });
  return health.ok ? { request, result, openRuns: health.data.open_runs } : { request, result };
}

/**
 * `GET /api/v1/admin/replays/:job_id`, then, once the run has completed, the tenant's projection health: the
 * judge needs both (a failed rebuild leaves 0 open failures; only the run row tells). While the run is still
 * going the second read is skipped, since the judge only reads it after completion.
 */
export async function dgReplayPoll(params: StepParams, ctx: ExecutorContext): Promise<ReplayPollMeasurement> {
  const jobId = new ParamReader('dg.replay_poll', params).string('jobId', undefined, 200);
  const polled = await ctx.dg.getReplay(jobId, { signal: ctx.signal });
  const run = callResultOf(polled, (r) => ({ run: r }));
  if (!polled.ok || polled.data.status !== 'completed') return { run };
  return { run, health: callResultOf(await ctx.dg.projectionHealth({ signal: ctx.signal }), same) };
}
