import type { Evidence, RunEvent } from '../../runbook/events.js';
import { formatDuration, formatOffset } from '../../runbook/time-format.js';
import type { SummaryContext } from './context.js';
import { actorShort, formatJson, viaText } from './format.js';
import type { RichText, TimelineEntry } from './types.js';

const MAX_FACT = 160;

/** The first evidence item that missed its expectation, as `label: measured (expected …)`. */
function firstMiss(items: readonly Evidence[]): string | undefined {
  const miss = items.find((i) => i.ok === false);
  if (miss === undefined) return undefined;
  const expected = miss.expected !== undefined ? ` (expected ${formatJson(miss.expected, 60)})` : '';
  return `${miss.label}: ${formatJson(miss.measured, 80)}${expected}`.slice(0, MAX_FACT);
}

function describe(ctx: SummaryContext, e: RunEvent): RichText {
  const title = 'stepId' in e && e.stepId !== undefined ? ctx.title(e.stepId) : '';
  const at = (iso: string) => formatOffset(ctx.offset(iso));
  switch (e.type) {
    case 'run_started': {
      const params = Object.keys(e.params)
        .sort()
        .map((k) => `${k} ${e.params[k]}`);
      return [
        `Run started by ${actorShort(e.startedBy)} via ${viaText(e.startedBy)}: scenario ${e.scenario} v${e.scenarioVersion}, ` +
          `tenant ${e.tenantId}${params.length > 0 ? `, ${params.join(', ')}` : ''}`,
      ];
    }
    case 'step_started':
      return [`${title}: started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`];
    case 'step_interrupted': {
      const next =
        e.next === 'recheck'
          ? 'checked before repeating it'
          : e.next === 'repeat'
            ? 'sent again'
            : 'a person decides whether it finished';
      return [`${title}: interrupted (attempt ${e.attempt}), the bot stopped while it ran; ${next}`];
    }
    case 'step_held':
      return [`${title}: held before starting: ${e.reason}`.slice(0, 400)];
    case 'step_rechecked':
      return [
        `${title}: re-checked before repeating it: ${e.alreadyDone ? 'already done, not repeated' : 'not done yet'}`,
      ];
    case 'step_waiting': {
      const miss = firstMiss(e.evidence);
      return [`${title}: not yet (check ${e.poll}${miss ? `, ${miss}` : ''}), next check at ${at(e.nextCheckAt)}`];
    }
    case 'step_passed':
      return [`${title}: passed`];
    case 'step_failed':
      return [
        `${title}: failed: `,
        { code: e.error.code },
        ` ${e.error.message}`.slice(0, 400) + (e.retryAt ? `; retry at ${at(e.retryAt)}` : ''),
      ];
    case 'step_skipped':
      return [
        `${title}: skipped${e.by ? ` by ${actorShort(e.by)}` : ''} (${e.reason})` +
          (e.confirmedBy ? `, confirmed by ${actorShort(e.confirmedBy)} (${e.confirmReason ?? ''})` : ''),
      ];
    case 'skip_requested':
      return [`Skip of ${title} asked by ${actorShort(e.by)} (${e.reason}); it needs a second person`];
    case 'decision_requested':
      return [`Decision asked: ${title}${e.item ? ` (${e.item.label})` : ''}`];
    case 'decision_made': {
      const record =
        ctx.state.decisions.find((d) => d.seq === e.seq) ??
        ctx.state.rejectedDecisions.find((r) => r.record.seq === e.seq)?.record;
      const option = record?.option?.label ?? e.optionId;
      return [
        `Decided by ${actorShort(e.by)}: ${title}${e.item ? ` (${e.item.id})` : ''}: "${option}"` +
          `${e.value !== undefined ? ` (${e.value})` : ''}${e.reason ? `, reason: ${e.reason}` : ''}`,
      ];
    }
    case 'approval_requested':
      return [`Approval asked (round ${e.round}) before "${ctx.title(e.guards)}"`];
    case 'approval_granted':
      return [`Approved by ${actorShort(e.by)} (round ${e.round}): ${title}`];
    case 'approval_voided':
      return [`Approval voided (round ${e.round}): ${e.reason}`];
    case 'approval_expired':
      return [`Approval expired (round ${e.round}): nobody approved within ${formatDuration(e.timeoutMs)}`];
    case 'approval_rejected':
      return [
        `Approval rejected by ${actorShort(e.by)} (round ${e.round}): ${title}${e.reopens ? `; back to "${ctx.title(e.reopens.decision)}" to choose again` : ''}`,
      ];
    case 'manual_action_requested':
      return [`Asked a person to act: ${title}`];
    case 'manual_action_done':
      return [`Marked done by ${actorShort(e.by)}: ${title}${e.note ? `, note: ${e.note}` : ''}`];
    case 'run_paused':
      return [`Run paused: ${e.reason}`];
    case 'run_resumed': {
      const confirms = e.action === 'skip' && ctx.state.steps[e.stepId]?.skip?.confirmedBy?.id === e.by.id;
      const what = e.action === 'retry' ? 'Retry chosen' : confirms ? 'Skip confirmed' : 'Skip chosen';
      return [`${what} by ${actorShort(e.by)}: ${title}${e.reason ? `, reason: ${e.reason}` : ''}`];
    }
    case 'run_aborted':
      return [`Run aborted by ${actorShort(e.by)}${title ? ` at ${title}` : ''}: ${e.reason}`];
    case 'run_finished': {
      const detail =
        e.outcome === 'switched'
          ? ` to ${e.switchTo ?? '?'}`
          : e.reason && e.outcome !== 'recovered'
            ? ` (${e.reason})`
            : '';
      return [`Run finished: ${e.outcome}${detail}`];
    }
  }
}

/** Every event as one line, in log order, with its time since the start. */
export function timeline(ctx: SummaryContext): TimelineEntry[] {
  return ctx.events.map((e) => ({
    seq: e.seq,
    at: e.at,
    offsetMs: ctx.offset(e.at) ?? 0,
    type: e.type,
    text: describe(ctx, e),
  }));
}
