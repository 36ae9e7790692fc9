import { HOST_ACTION_EXECUTORS, type JobExecutorName, type Measurement } from '../measurements.js';
import { judgeChecklist } from './gate.js';
import { judgeHealthzDbConnected, judgeHealthzDown, judgeHealthzSymptoms, judgeHealthzUp } from './healthz.js';
import { judgeBackupsListed, judgeHostCompleted, judgePreserved } from './host.js';
import { judgeProjectionProgress, judgeProjectionSnapshot } from './projections.js';
import {
  judgeGraphReadable,
  judgeTraceReadable,
  judgeTraceStatus,
  judgeWorkflowInbox,
  judgeWorkflowReadable,
} from './reads.js';
import { judgeReplayAdmitted, judgeReplayFinished, judgeReplayOrphans } from './replay.js';
import { judgeSmokePass, judgeSmokeRecord } from './smoke.js';
import {
  judgeCursorAhead,
  judgeIntegrityClean,
  judgeIntegrityEvidence,
  judgeParityCompare,
  judgeParityRecord,
  judgeProjectionFailures,
  judgeSqlReachable,
  judgeSqlSymptoms,
} from './sql.js';
import type { Judge } from './types.js';

export type { Judge, JudgeContext, Verdict } from './types.js';

interface JudgeEntry {
  /** Executors whose measurement this judge reads. */
  readonly executors: readonly JobExecutorName[];
  readonly judge: Judge<never>;
}

/**
 * Every judge by name. Scenario data names a judge per step (or takes its executor's default); the schema checks
 * that the judge reads that executor's measurement.
 */
export const JUDGES = {
  'healthz.symptoms': { executors: ['dg.healthz'], judge: judgeHealthzSymptoms },
  'healthz.up': { executors: ['dg.healthz'], judge: judgeHealthzUp },
  'healthz.db_connected': { executors: ['dg.healthz'], judge: judgeHealthzDbConnected },
  'healthz.down': { executors: ['dg.healthz'], judge: judgeHealthzDown },
  'projections.snapshot': { executors: ['dg.projection_health'], judge: judgeProjectionSnapshot },
  'projections.progress': { executors: ['dg.projection_health'], judge: judgeProjectionProgress },
  'trace.readable': { executors: ['dg.trace_read'], judge: judgeTraceReadable },
  'trace.status': { executors: ['dg.trace_read'], judge: judgeTraceStatus },
  'graph.readable': { executors: ['dg.graph_read'], judge: judgeGraphReadable },
  'workflow.inbox': { executors: ['dg.workflow_inbox'], judge: judgeWorkflowInbox },
  'workflow.readable': { executors: ['dg.workflow_read'], judge: judgeWorkflowReadable },
  'replay.admitted': { executors: ['dg.replay_start'], judge: judgeReplayAdmitted },
  'replay.finished': { executors: ['dg.replay_poll'], judge: judgeReplayFinished },
  'replay.orphans': { executors: ['dg.replay_inventory'], judge: judgeReplayOrphans },
  'sql.symptoms': { executors: ['sql.reach'], judge: judgeSqlSymptoms },
  'sql.reachable': { executors: ['sql.reach'], judge: judgeSqlReachable },
  'failures.classify': { executors: ['sql.projection_failures'], judge: judgeProjectionFailures },
  'cursors.ahead': { executors: ['sql.cursor_ahead'], judge: judgeCursorAhead },
  'integrity.evidence': { executors: ['sql.integrity'], judge: judgeIntegrityEvidence },
  'integrity.clean': { executors: ['sql.integrity'], judge: judgeIntegrityClean },
  'parity.record': { executors: ['sql.parity'], judge: judgeParityRecord },
  'parity.compare': { executors: ['sql.parity'], judge: judgeParityCompare },
  'host.completed': { executors: HOST_ACTION_EXECUTORS, judge: judgeHostCompleted },
  'host.preserved': { executors: ['host.preserve_database'], judge: judgePreserved },
  'backups.list': { executors: ['host.list_backups'], judge: judgeBackupsListed },
  'smoke.record': { executors: ['smoke.checks'], judge: judgeSmokeRecord },
  'smoke.pass': { executors: ['smoke.checks'], judge: judgeSmokePass },
  'gate.checklist': { executors: ['gate.checklist'], judge: judgeChecklist },
} as const satisfies Record<string, JudgeEntry>;

export type JudgeName = keyof typeof JUDGES;
export const JUDGE_NAMES = Object.keys(JUDGES) as [JudgeName, ...JudgeName[]];

/** The judge a step gets when its data names none. */
export const DEFAULT_JUDGE: Readonly<Record<JobExecutorName, JudgeName>> = {
  'dg.healthz': 'healthz.up',
  'dg.projection_health': 'projections.snapshot',
  'dg.trace_read': 'trace.readable',
  'dg.graph_read': 'graph.readable',
  'dg.workflow_inbox': 'workflow.inbox',
  'dg.workflow_read': 'workflow.readable',
  'dg.replay_start': 'replay.admitted',
  'dg.replay_poll': 'replay.finished',
  'dg.replay_inventory': 'replay.orphans',
  'sql.reach': 'sql.reachable',
  'sql.integrity': 'integrity.evidence',
  'sql.parity': 'parity.record',
  'sql.projection_failures': 'failures.classify',
  'sql.cursor_ahead': 'cursors.ahead',
  'host.restart_runtime': 'host.completed',
  'host.stop_runtime': 'host.completed',
  'host.start_runtime': 'host.completed',
  'host.restore_postgres': 'host.completed',
  'host.stop_writes': 'host.completed',
  'host.preserve_database': 'host.preserved',
  'host.list_backups': 'backups.list',
  'host.restore_backup': 'host.completed',
  'host.switch_release': 'host.completed',
  'smoke.checks': 'smoke.pass',
  'gate.checklist': 'gate.checklist',
};

export function judgeAccepts(judge: JudgeName, executor: string): boolean {
  return (JUDGES[judge].executors as readonly string[]).includes(executor);
}

/** Runs a judge over a measurement; the caller has matched judge and executor. */
export function runJudge(name: JudgeName, measurement: Measurement, ctx: Parameters<Judge<unknown>>[1]) {
  return (JUDGES[name].judge as Judge<Measurement>)(measurement, ctx);
}
