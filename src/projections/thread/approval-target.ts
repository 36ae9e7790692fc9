import { type ApprovalStep, isExecutorStep, type Step, stepState } from '../../runbook/index.js';
import { isJsonObject, type Json } from '../../runbook/json.js';
import { resolveParams } from '../../runbook/params.js';
import { formatDuration, msBetween } from '../../runbook/time-format.js';
import { code, esc } from './format.js';
import type { ThreadModel } from './model.js';

/** The listed backup a restore would use, as its listing step showed it. */
function listedBackup(model: ThreadModel, approval: ApprovalStep, id: string): Record<string, Json> | undefined {
  const listing = approval.fingerprintOf.step;
  if (listing === undefined) return undefined;
  const artifacts = stepState(model.state, listing).outputs.artifacts;
  if (!Array.isArray(artifacts)) return undefined;
  return artifacts.find((a): a is Record<string, Json> => isJsonObject(a) && (a.id === id || a.path === id));
}

function backupTarget(model: ThreadModel, approval: ApprovalStep, artifact: string): string {
  const listed = listedBackup(model, approval, artifact);
  const created = typeof listed?.created_at === 'string' ? listed.created_at : undefined;
  const age = created ? msBetween(created, model.state.startedAt) : undefined;
  const when =
    age === undefined || age === null
      ? ''
      : age >= 0
        ? `, taken ${formatDuration(age)} before the run`
        : `, taken ${formatDuration(-age)} after the run began`;
  const shown =
    typeof listed?.display === 'string'
      ? ` (${esc(listed.display, 300)}${when})`
      : ' (not in the listing: typed by hand)';
  return `backup ${code(artifact, 120)}${shown}. ${eventsLost(model, listed?.last_log_seq)}`;
}

/** The newest event-log tail (MAX(log_seq)) a passed step of this run read, if any. */
function currentTail(model: ThreadModel): number | undefined {
  let tail: number | undefined;
  let at = '';
  for (const step of model.scenario.steps) {
    const s = stepState(model.state, step.id);
    const seq = s.outputs.maxLogSeq;
    if (s.status !== 'passed' || typeof seq !== 'number' || (s.finishedAt ?? '') < at) continue;
    tail = seq;
    at = s.finishedAt ?? '';
  }
  return tail;
}

/** Why this run holds no tail: the error of a tail read (`sql.parity`) that failed, if one did. */
function tailReadFailure(model: ThreadModel): string | undefined {
  for (const step of model.scenario.steps) {
    const { status, error } = stepState(model.state, step.id);
    if (isExecutorStep(step) && step.executor === 'sql.parity' && status === 'failed' && error) {
      return `${error.code}: ${error.message}`;
    }
  }
  return undefined;
}

/** What a restore loses: the tail minus the backup's last log_seq, or plainly why that is not known. */
export function eventsLost(model: ThreadModel, backupSeq: Json | undefined): string {
  if (typeof backupSeq !== 'number') {
    return (
      'Events written after it was taken are lost: how many is not known, because the backup listing reports no ' +
      'event-log position to compare with the current tail.'
    );
  }
  if (backupSeq < 0) {
    return `The listing gives the backup's last event seq as ${backupSeq}, which is not a position: how many events it would lose is not known.`;
  }
  const tail = currentTail(model);
  if (tail === undefined) {
    const failure = tailReadFailure(model);
    const why = failure
      ? `reading the current tail failed (${esc(failure, 300)})`
      : 'this run has not read the current tail';
    return `The backup holds the event log up to seq ${backupSeq}; ${why}, so how many events it would lose is not known.`;
  }
  if (backupSeq > tail) {
    return `The listing says the backup holds the event log up to seq ${backupSeq}, ahead of the current tail seq ${tail}: the listing or the database is wrong, and how many events it would lose is not known.`;
  }
  return `Would lose ${tail - backupSeq} events written after the backup (tail seq ${tail}, backup up to ${backupSeq}).`;
}

/**
 * What the approved step acts on, in words: the backup a restore uses (label, age, size, and what it would lose),
 * the release a switch deploys, the projection a rebuild starts over. `undefined` when it acts on nothing named.
 */
export function approvalTarget(
  model: ThreadModel,
  approval: ApprovalStep,
  guarded: Step | undefined,
): string | undefined {
  if (guarded === undefined || !isExecutorStep(guarded)) return undefined;
  const params = resolveParams(guarded.params, model.state);
  if (typeof params.artifact === 'string' && params.artifact !== '') {
    return backupTarget(model, approval, params.artifact);
  }
  if (typeof params.release === 'string' && params.release !== '') return `release ${code(params.release, 120)}`;
  if (typeof params.projection === 'string') return `projection ${code(params.projection, 120)}`;
  return undefined;
}
