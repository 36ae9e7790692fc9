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
  return (
    `backup ${code(artifact, 120)}${shown}. Events written after it was taken are lost: how many is not known, ` +
    'because the backup listing reports no event-log position to compare with the current tail.'
  );
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
