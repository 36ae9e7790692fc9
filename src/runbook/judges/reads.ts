import type {
  CallFailure,
  CallResult,
  GraphReadMeasurement,
  TraceReadMeasurement,
  WorkflowInboxMeasurement,
  WorkflowReadMeasurement,
} from '../measurements.js';
import { callEvidence, evidence, httpSource } from './evidence.js';
import type { Judge, Verdict } from './types.js';

const OUT_OF_DATE_CODE = 'DG_ERR_API_PROJECTION_OUT_OF_DATE';
const NOT_FOUND_CODE = 'DG_ERR_API_NOT_FOUND';

export function isOutOfDate(error: CallFailure): boolean {
  return error.code === OUT_OF_DATE_CODE || error.dgCode === 'projection_out_of_date';
}

function isNotFound(error: CallFailure): boolean {
  return error.code === NOT_FOUND_CODE || error.dgCode === 'not_found';
}

/** `"Projections at log_seq=<cursor>, events at <tail>"` → the two numbers, when the message has them. */
export function outOfDatePositions(error: CallFailure): { cursor: number; tail: number } | undefined {
  const match = /log_seq=(\d+),\s*events at (\d+)/.exec(error.dgMessage ?? error.message);
  return match ? { cursor: Number(match[1]), tail: Number(match[2]) } : undefined;
}

const BEHIND_DETAIL =
  '409 projection_out_of_date: the read model is behind the event log (one unprojected event anywhere in the ' +
  'tenant blocks every trace read); the trace is not lost';

function failedCall(label: string, m: Extract<CallResult<unknown>, { ok: false }>, what: string): Verdict {
  return {
    result: 'failed',
    error: { code: m.error.code, message: `${what}: ${m.error.message}` },
    transient: m.error.transient,
    evidence: [callEvidence(label, m, 200)],
  };
}

function traceVerdict(m: TraceReadMeasurement, behindPasses: boolean): Verdict {
  const label = 'GET /api/v1/traces/:trace_id';
  if (m.ok) {
    return {
      result: 'passed',
      outputs: { trace: 'readable', eventCount: m.data.summary.event_count, lastLogSeq: m.data.summary.last_log_seq },
      evidence: [
        callEvidence(label, m, 200),
        evidence('trace event_count', m.data.summary.event_count, httpSource(m.evidence), {
          detail: `trace ${m.data.summary.trace_id}, last log_seq ${m.data.summary.last_log_seq}`,
        }),
      ],
    };
  }
  if (isOutOfDate(m.error)) {
    const positions = outOfDatePositions(m.error);
    const outputs = {
      trace: 'projections_behind',
      ...(positions ? { cursor: positions.cursor, tail: positions.tail } : {}),
    };
    const items = [callEvidence(label, m, 200, BEHIND_DETAIL)];
    return behindPasses
      ? { result: 'passed', outputs, evidence: items }
      : { result: 'waiting', outputs, evidence: items };
  }
  if (isNotFound(m.error)) {
    return {
      result: 'failed',
      error: {
        code: 'trace_missing',
        message: `the known trace is not there (404, projections current): ${m.error.dgMessage ?? m.error.message}`,
      },
      transient: false,
      outputs: { trace: 'missing' },
      evidence: [callEvidence(label, m, 200, '404 while projections are current: the trace is not in the event log')],
    };
  }
  return failedCall(label, m, 'the known trace could not be read');
}

/** Passes on 200; a 409 keeps a poll going (projections behind), a 404 fails: the trace is missing. */
export const judgeTraceReadable: Judge<TraceReadMeasurement> = (m) => traceVerdict(m, false);

/** Records whether the trace reads: 200 and 409 both pass (with `trace` telling which), 404 fails. */
export const judgeTraceStatus: Judge<TraceReadMeasurement> = (m) => traceVerdict(m, true);

/** The graph surface (`context_graph`): 200 passes, 409 keeps a poll going. */
export const judgeGraphReadable: Judge<GraphReadMeasurement> = (m): Verdict => {
  const label = 'GET /api/v1/graph/context';
  if (m.ok) {
    return {
      result: 'passed',
      outputs: { graph: 'readable', nodes: m.data.nodes.length, edges: m.data.edges.length },
      evidence: [
        callEvidence(label, m, 200),
        evidence(
          'graph nodes and edges',
          { nodes: m.data.nodes.length, edges: m.data.edges.length },
          httpSource(m.evidence),
        ),
      ],
    };
  }
  if (isOutOfDate(m.error)) {
    return {
      result: 'waiting',
      outputs: { graph: 'projections_behind' },
      evidence: [callEvidence(label, m, 200, '409: context_graph is behind the event log')],
    };
  }
  return failedCall(label, m, 'the graph surface could not be read');
};

export const judgeWorkflowInbox: Judge<WorkflowInboxMeasurement> = (m): Verdict => {
  const label = 'GET /api/v1/workflows';
  if (!m.ok) return failedCall(label, m, 'the workflow inbox could not be read');
  const s = m.data.summary;
  return {
    result: 'passed',
    outputs: {
      inbox: 'readable',
      totalCount: s.total_count,
      openCount: s.open_count,
      overdueCount: s.overdue_count,
      escalatedCount: s.escalated_count ?? 0,
    },
    evidence: [
      callEvidence(label, m, 200),
      evidence(
        'workflow inbox',
        { open: s.open_count, overdue: s.overdue_count, total: s.total_count },
        httpSource(m.evidence),
        {
          detail: 'workflow reads write: DecisionGraph refreshes workflow tables and escalates overdue items first',
        },
      ),
    ],
  };
};

export const judgeWorkflowReadable: Judge<WorkflowReadMeasurement> = (m): Verdict => {
  const label = 'GET /api/v1/workflows/:workflow_id';
  if (m.ok) {
    return {
      result: 'passed',
      outputs: {
        workflow: 'readable',
        workflowStatus: m.data.workflow.status,
        overdue: m.data.workflow.overdue ?? false,
      },
      evidence: [
        callEvidence(label, m, 200),
        evidence('known workflow status', m.data.workflow.status, httpSource(m.evidence)),
      ],
    };
  }
  if (isNotFound(m.error)) {
    return {
      result: 'failed',
      error: {
        code: 'workflow_missing',
        message: `the known workflow is not there: ${m.error.dgMessage ?? m.error.message}`,
      },
      transient: false,
      evidence: [callEvidence(label, m, 200)],
    };
  }
  return failedCall(label, m, 'the known workflow could not be read');
};
