import type { Evidence, RunEventOf } from '../../runbook/events.js';
import { interruptedAttemptOf } from '../../runbook/interruptions.js';
import { hostActionOf } from '../../runbook/measurements.js';
import { isParamRef, resolveParams } from '../../runbook/params.js';
import { isExecutorStep } from '../../runbook/scenario-schema.js';
import { stepState } from '../../runbook/state.js';
import type { SummaryContext } from './context.js';
import { formatJson } from './format.js';
import type { HostActionMeans, HostActionOutcome, HostActionSummary } from './types.js';

function hostEvidence(events: ReturnType<SummaryContext['forStep']>): Evidence[] {
  const items: Evidence[] = [];
  for (const e of events) {
    if ('evidence' in e) items.push(...e.evidence.filter((x) => x.source.kind === 'host'));
  }
  return items;
}

function meansOf(manual: boolean, host: readonly Evidence[], mode: unknown): HostActionMeans {
  if (manual) return 'by hand';
  if (mode === 'command') return 'command';
  if (mode === 'http') return 'webhook';
  if (host.some((x) => x.source.method !== undefined)) return 'webhook';
  return host.some((x) => x.label.endsWith(' exit code')) ? 'command' : 'unknown';
}

/** The item that says how the action ended: its exit code or webhook status. */
function resultItem(host: readonly Evidence[]): Evidence | undefined {
  return host.find((x) => x.source.method !== undefined || x.label.endsWith(' exit code'));
}

function detailOf(
  means: HostActionMeans,
  host: readonly Evidence[],
  instructions: string | undefined,
): string | undefined {
  const last = resultItem(host);
  if (means === 'by hand') return instructions;
  if (last === undefined) return undefined;
  if (means === 'command') {
    const line = last.detail?.split('\n')[0];
    return line ? `${line} → exit ${formatJson(last.measured)}` : `exit ${formatJson(last.measured)}`;
  }
  if (means === 'webhook') return `${last.source.method ?? 'POST'} → ${formatJson(last.measured)}`;
  return undefined;
}

/**
 * The actions on the host the run performed or asked a person to perform (restart, stop writes, preserve, restore,
 * switch release), by what means, and with the values chosen for them (artifact, release).
 */
export function hostActionSummaries(ctx: SummaryContext): HostActionSummary[] {
  const out: HostActionSummary[] = [];
  for (const def of ctx.scenario?.steps ?? []) {
    if (!isExecutorStep(def)) continue;
    const action = def.executor === 'manual' ? 'manual' : hostActionOf(def.executor);
    if (action === undefined) continue;
    const s = stepState(ctx.state, def.id);
    if (s.status === 'pending' || s.status === 'skipped') continue;
    const events = ctx.forStep(def.id);
    const requested = events.filter(
      (e): e is RunEventOf<'manual_action_requested'> => e.type === 'manual_action_requested',
    );
    const done = events.filter((e): e is RunEventOf<'manual_action_done'> => e.type === 'manual_action_done');
    const lastDone = done[done.length - 1];
    const final = s.evidence.filter((x) => x.source.kind === 'host');
    const host = final.length > 0 ? final : hostEvidence(events);
    // Outputs say how the action ran; an attempt that never finished has only what its start recorded.
    const means = meansOf(requested.length > 0 || def.executor === 'manual', host, s.outputs.mode ?? s.actionMode);
    // An interrupted attempt a person said had finished: their word, not the bot's measurement.
    const reported =
      s.status === 'passed' && s.outputs.markedDone === true
        ? ctx.state.decisions.findLast(
            (d) => d.stepId === def.id && interruptedAttemptOf(ctx.scenario, d) === s.attempt,
          )
        : undefined;
    let outcome: HostActionOutcome;
    if (reported) outcome = 'reported done';
    else if (s.status === 'passed') outcome = s.alreadyDone ? 'already done' : 'done';
    else if (s.status === 'failed') outcome = 'failed';
    // Still running, or waiting for a person's Done, when the log ends.
    else outcome = ctx.finished ? 'not confirmed' : 'in progress';
    // Values a person chose for the action (a backup artifact, a release) are worth recording with it.
    const chosen = Object.entries(def.params ?? {}).filter(([, v]) => isParamRef(v) && v.$ref.from === 'decision');
    const resolved = resolveParams(Object.fromEntries(chosen), ctx.state);
    const params = Object.keys(resolved)
      .sort()
      .map((k) => `${k} ${formatJson(resolved[k])}`);
    const detail = detailOf(means, host, requested[requested.length - 1]?.instructions ?? def.instructions);
    out.push({
      stepId: def.id,
      title: def.title,
      action,
      risk: def.risk,
      means,
      outcome,
      at: s.finishedAt ?? events[events.length - 1]?.at ?? null,
      ...(reported ? { by: reported.by } : lastDone ? { by: lastDone.by } : {}),
      ...(reported?.reason !== undefined
        ? { note: reported.reason }
        : lastDone?.note !== undefined
          ? { note: lastDone.note }
          : {}),
      ...(params.length > 0 ? { chosen: params.join(', ') } : {}),
      ...(detail !== undefined && detail !== '' ? { detail } : {}),
      ...(s.error && s.status === 'failed' ? { error: s.error } : {}),
      evidence: s.evidence,
    });
  }
  return out;
}
