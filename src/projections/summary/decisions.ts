import type { RunEventOf } from '../../runbook/events.js';
import { interruptedAttemptOf } from '../../runbook/interruptions.js';
import { msBetween } from '../../runbook/time-format.js';
import type { SummaryContext } from './context.js';
import type { ApprovalSummary, DecisionSummary } from './types.js';

const itemKey = (stepId: string, itemId: string | undefined) => `${stepId}\u0000${itemId ?? ''}`;

/** Every decision in log order, each with the question, the options and the evidence the person was shown. */
export function decisionSummaries(ctx: SummaryContext): DecisionSummary[] {
  const asked = new Map<string, RunEventOf<'decision_requested'>>();
  const out: DecisionSummary[] = [];
  for (const e of ctx.events) {
    if (e.type === 'decision_requested') asked.set(itemKey(e.stepId, e.item?.id), e);
    if (e.type !== 'decision_made') continue;
    const request = asked.get(itemKey(e.stepId, e.item?.id));
    const options = request?.options ?? [];
    const chosen = options.find((o) => o.id === e.optionId);
    const recommended = options.find((o) => o.recommended === true);
    const interruptedAttempt = interruptedAttemptOf(ctx.scenario, e);
    out.push({
      seq: e.seq,
      stepId: e.stepId,
      stepTitle: ctx.title(e.stepId),
      ...(e.item ? { item: e.item } : {}),
      prompt: request?.prompt ?? null,
      requestedAt: request?.at ?? null,
      at: e.at,
      by: e.by,
      optionId: e.optionId,
      optionLabel: chosen?.label ?? e.optionId,
      followedRecommendation: recommended !== undefined && recommended.id === e.optionId,
      ...(recommended !== undefined && recommended.id !== e.optionId ? { recommendedLabel: recommended.label } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      ...(e.value !== undefined ? { value: e.value } : {}),
      offered: options.map((o) => ({ id: o.id, label: o.label, recommended: o.recommended === true })),
      saw: request?.evidence ?? [],
      waitedMs: msBetween(request?.at, e.at),
      ...(interruptedAttempt !== undefined ? { interruptedAttempt } : {}),
    });
  }
  return out;
}

/**
 * Every approval round in log order: who could approve, what they saw, who approved and whether it held, or that
 * nobody approved in time.
 */
export function approvalSummaries(ctx: SummaryContext): ApprovalSummary[] {
  const rounds: ApprovalSummary[] = [];
  const index = new Map<string, number>();
  for (const e of ctx.events) {
    if (e.type === 'approval_requested') {
      index.set(`${e.stepId}#${e.round}`, rounds.length);
      rounds.push({
        seq: e.seq,
        stepId: e.stepId,
        stepTitle: ctx.title(e.stepId),
        guards: e.guards,
        guardsTitle: ctx.title(e.guards),
        round: e.round,
        requestedAt: e.at,
        prompt: e.prompt,
        approvers: e.approvers,
        excluded: e.excluded,
        fingerprint: e.fingerprint,
        saw: e.evidence,
        outcome: ctx.finished ? 'not_given' : 'open',
      });
      continue;
    }
    if (e.type !== 'approval_granted' && e.type !== 'approval_voided' && e.type !== 'approval_expired') continue;
    const i = index.get(`${e.stepId}#${e.round}`);
    const round = i === undefined ? undefined : rounds[i];
    if (i === undefined || round === undefined) continue;
    if (e.type === 'approval_expired') {
      rounds[i] = { ...round, outcome: 'expired', expired: { at: e.at, timeoutMs: e.timeoutMs } };
      continue;
    }
    rounds[i] =
      e.type === 'approval_granted'
        ? { ...round, outcome: 'granted', grantedBy: e.by, grantedAt: e.at }
        : {
            ...round,
            outcome: 'voided',
            voided: { reason: e.reason, at: e.at, currentFingerprint: e.currentFingerprint },
          };
  }
  return rounds;
}
