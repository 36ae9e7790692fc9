import { formatDuration, formatInstant } from '../../runbook/time-format.js';
import { actorText, OUTCOME_LABEL } from './format.js';
import type { IncidentSummary, RichText, StepSummary } from './types.js';

// The parts of the summary a postmortem author starts from: impact, a timeline in wall-clock times and plain
// words, follow-ups with an owner to fill in. Machine detail (every event, raw evidence) stays in the appendix.

/** One line of the plain timeline: a moment and what happened, in words. */
export interface PlainMoment {
  readonly at: string;
  readonly text: RichText;
}

/** Steps worth a line of their own: what changed something, and whatever went wrong (a passed gate is "healthy"). */
const TOLD_KINDS: ReadonlySet<string> = new Set(['action', 'manual']);

const STEP_VERB: Readonly<Record<StepSummary['outcome'], string>> = {
  passed: 'done',
  failed: 'FAILED',
  skipped: 'skipped',
  not_reached: 'not reached',
  in_progress: 'still running',
  interrupted: 'interrupted',
};

/** Machine events a person reading the incident needs: what went wrong, stopped, or was waved through. */
const TOLD_EVENTS: ReadonlySet<string> = new Set([
  'step_failed',
  'step_interrupted',
  'run_paused',
  'run_resumed',
  'approval_voided',
  'approval_expired',
  'approval_rejected',
]);

function stepMoment(step: StepSummary): PlainMoment | undefined {
  const at = step.finishedAt ?? step.startedAt;
  if (at === null) return undefined;
  if (step.outcome === 'skipped' && step.skip?.by) {
    const by = step.skip.confirmedBy ? `, confirmed by ${actorText(step.skip.confirmedBy)}` : '';
    return { at, text: [`${step.title}: skipped by ${actorText(step.skip.by)}${by}: ${step.skip.reason}`] };
  }
  if (!TOLD_KINDS.has(step.kind) || step.outcome !== 'passed') return undefined;
  return { at, text: [`${step.title}: ${STEP_VERB[step.outcome]}`] };
}

/** The run in a few lines a person can read aloud: start, actions, decisions, approvals, recovery, end. */
export function plainTimeline(s: IncidentSummary): PlainMoment[] {
  const moments: PlainMoment[] = [
    {
      at: s.times.startedAt,
      text: [`Recovery run started by ${actorText(s.trigger.startedBy)} (scenario ${s.scenario.name})`],
    },
  ];
  for (const step of s.steps) {
    const m = stepMoment(step);
    if (m) moments.push(m);
  }
  for (const d of s.decisions) {
    const why = d.reason !== undefined ? `, because: ${d.reason}` : '';
    moments.push({ at: d.at, text: [`${actorText(d.by)} decided "${d.optionLabel}" (${d.stepTitle})${why}`] });
  }
  for (const a of s.approvals) {
    if (a.grantedBy && a.grantedAt) {
      moments.push({ at: a.grantedAt, text: [`${actorText(a.grantedBy)} approved: ${a.guardsTitle}`] });
    }
  }
  for (const t of s.timeline) if (TOLD_EVENTS.has(t.type)) moments.push({ at: t.at, text: t.text });
  if (s.times.reachableAt) {
    moments.push({
      at: s.times.reachableAt,
      text: ['DecisionGraph reachable: it answered with its database connected'],
    });
  }
  if (s.times.healthyAt) moments.push({ at: s.times.healthyAt, text: ['Recovery checklist passed: healthy'] });
  // An abort chosen at a decision is already that decision's line.
  const abort = s.abort;
  if (abort && !s.decisions.some((d) => d.at === abort.at)) {
    moments.push({ at: abort.at, text: [`Run aborted by ${actorText(abort.by)}: ${abort.reason}`] });
  }
  if (s.times.endedAt) {
    const reason = s.outcomeReason && s.outcome !== 'recovered' && !s.abort ? ` (${s.outcomeReason})` : '';
    moments.push({ at: s.times.endedAt, text: [`Run ended: ${OUTCOME_LABEL[s.outcome] ?? s.outcome}${reason}`] });
  }
  // Stable: equal times keep the order above (start first, end last).
  return moments
    .map((m, i) => ({ m, i, t: Date.parse(m.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map(({ m }) => m);
}

/** `12:00:42`: the wall-clock time of day in UTC (the date is in the overview). */
export function clockTime(at: string): string {
  return formatInstant(at).replace(/^\d{4}-\d{2}-\d{2} (\S+) UTC$/, '$1');
}

/** What the outage cost, as far as the run measured it; what it could not measure is said so. */
export function impactLines(s: IncidentSummary): RichText[] {
  const reachable = s.times.reachableAt
    ? `DecisionGraph was reachable ${formatDuration(s.times.timeToReachableMs)} after the run started`
    : 'DecisionGraph was not seen answering during the run';
  const healthy = s.times.healthyAt
    ? `healthy (recovery checklist passed) ${formatDuration(s.times.timeToHealthyMs)} after the run started`
    : 'not confirmed healthy by the run';
  const lost = s.followUps.filter((f) => f.id === 'events_not_restored' || f.id === 'preserved_database');
  return [
    ['Downtime: ', `${reachable}; when the outage began (before the run) is for the author to fill in.`],
    ['Time to healthy: ', `${healthy}.`],
    lost.length > 0
      ? ['Events at risk or lost: ', ...lost.flatMap((f, i) => (i === 0 ? f.text : [' ', ...f.text]))]
      : ['Events at risk or lost: none measured by the run.'],
  ];
}
