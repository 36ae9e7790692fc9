import { actorShort } from './format.js';
import type { IncidentSummary, ManualActionId, RichText, SummaryOutcome } from './types.js';

// The incident summary in a few facts and one sentence, for places that list runs or announce an outcome (the
// channel, `/dg history`): what happened, how long it took, what people still owe. The full record stays in the
// summary itself.

export interface RunGist {
  readonly runId: string;
  readonly scenario: string;
  readonly tenantId: string;
  readonly outcome: SummaryOutcome;
  readonly durationMs: number | null;
  /** From the start to the moment the recovery checklist passed; `null` when it never did. */
  readonly timeToHealthyMs: number | null;
  readonly stepsPassed: number;
  readonly stepsTotal: number;
  /** Manual actions people still owe: asked and not answered, or a duty this run gave cause to remember. */
  readonly openManualActions: readonly { readonly id: ManualActionId; readonly title: string }[];
  readonly followUps: number;
  /** One sentence on what happened, without the outcome and the times (shown next to it, as each place formats them). */
  readonly line: RichText;
}

const MAX_REASON = 120;

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function decisionsPart(s: IncidentSummary): RichText {
  if (s.decisions.length === 0) return [];
  const shown = s.decisions
    .slice(0, 2)
    .map((d) => `${cut(d.optionLabel, 60)} (${actorShort(d.by)})`)
    .join(', ');
  const more = s.decisions.length > 2 ? ` and ${s.decisions.length - 2} more` : '';
  return [`; decided: ${shown}${more}`];
}

function failedPart(s: IncidentSummary): RichText {
  const step = s.steps.find((x) => x.outcome === 'failed' || x.outcome === 'interrupted');
  const failing = s.finalHealth.failing;
  if (failing.length > 0 && (step === undefined || step.id === s.finalHealth.stepId)) {
    const conditions: RichText = failing.slice(0, 3).flatMap((f, i) => [i > 0 ? ', ' : '', { code: f.condition }]);
    return ['Checklist not met: ', ...conditions, failing.length > 3 ? ` and ${failing.length - 3} more` : ''];
  }
  if (step) {
    const why: RichText = step.error
      ? [': ', { code: step.error.code }, ` ${cut(step.error.message, MAX_REASON)}`]
      : s.outcomeReason
        ? [`: ${cut(s.outcomeReason, MAX_REASON)}`]
        : [];
    return [`Failed at "${cut(step.title, 80)}"`, ...why];
  }
  return [s.outcomeReason ? cut(s.outcomeReason, MAX_REASON) : 'Failed'];
}

function line(s: IncidentSummary): RichText {
  const passed = s.steps.filter((x) => x.outcome === 'passed').length;
  const steps = `${passed} of ${s.steps.length} steps passed`;
  switch (s.outcome) {
    case 'recovered':
      return [steps, ...decisionsPart(s)];
    case 'recovered_with_exceptions': {
      const skipped = s.steps.filter((x) => x.skip?.cause === 'operator').map((x) => `"${cut(x.title, 60)}"`);
      return [`Skipped after failing: ${skipped.join(', ')}; ${steps}`, ...decisionsPart(s)];
    }
    case 'failed':
      return [...failedPart(s), `; ${steps}`];
    case 'aborted': {
      const at = s.abort?.stepId ? s.steps.find((x) => x.id === s.abort?.stepId) : undefined;
      const where = at ? ` at "${cut(at.title, 80)}"` : '';
      const by = s.abort ? ` by ${actorShort(s.abort.by)}` : '';
      const reason = s.abort ? `: ${cut(s.abort.reason, MAX_REASON)}` : '';
      return [`Aborted${by}${where}${reason}`];
    }
    case 'switched':
      return [
        'Switched to ',
        { code: s.switchTo ?? '?' },
        s.outcomeReason ? `: ${cut(s.outcomeReason, MAX_REASON)}` : '',
        `; ${steps}`,
      ];
    case 'in_progress': {
      const current = s.steps.find((x) => x.outcome === 'in_progress');
      return [current ? `At step ${current.index} of ${s.steps.length}: "${cut(current.title, 80)}"` : steps];
    }
  }
}

/** The gist of an incident summary (see {@link RunGist}). Pure. */
export function summaryGist(s: IncidentSummary): RunGist {
  return {
    runId: s.runId,
    scenario: s.scenario.name,
    tenantId: s.tenantId,
    outcome: s.outcome,
    durationMs: s.times.durationMs,
    timeToHealthyMs: s.times.timeToHealthyMs,
    stepsPassed: s.steps.filter((x) => x.outcome === 'passed').length,
    stepsTotal: s.steps.length,
    openManualActions: s.manualActions
      .filter((m) => m.status === 'open' || m.status === 'reminder')
      .map((m) => ({ id: m.id, title: m.title })),
    followUps: s.followUps.length,
    line: line(s).filter((p) => p !== ''),
  };
}
