import type { GateResult, RunEvent } from '../../runbook/events.js';
import { isJsonObject, type Json } from '../../runbook/json.js';
import { stepState } from '../../runbook/state.js';
import { formatOffset, msBetween } from '../../runbook/time-format.js';
import { createContext, type ScenarioCatalog, type SummaryContext } from './context.js';
import { approvalSummaries, decisionSummaries } from './decisions.js';
import { followUps } from './follow-ups.js';
import { actorShort } from './format.js';
import { hostActionSummaries } from './host-actions.js';
import { manualActionSummaries } from './manual-actions.js';
import { stepSummaries } from './steps.js';
import { timeline } from './timeline.js';
import type { FinalHealth, IncidentSummary, RichText } from './types.js';

const strings = (value: Json | undefined): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

function gateStepId(ctx: SummaryContext): string | null {
  const fromOutcome = ctx.state.outcome?.gate?.stepId;
  if (fromOutcome !== undefined) return fromOutcome;
  const gates = (ctx.scenario?.steps ?? []).filter((s) => s.kind === 'gate');
  return gates[gates.length - 1]?.id ?? null;
}

function failingFrom(value: Json | undefined): GateResult['failing'] {
  if (!Array.isArray(value)) return [];
  return value.filter(isJsonObject).map((f) => ({
    condition: String(f.condition ?? ''),
    detail: String(f.detail ?? ''),
    measured: f.measured ?? null,
    expected: f.expected ?? null,
  }));
}

function finalHealth(ctx: SummaryContext): FinalHealth {
  const id = gateStepId(ctx);
  const none: FinalHealth = {
    checked: false,
    passed: null,
    stepId: id,
    at: null,
    failing: [],
    unchecked: [],
    acknowledgedRuns: [],
    manualChecks: [],
    otherTenants: [],
    evidence: [],
    note: ['The scenario has no recovery checklist step.'],
  };
  if (id === null) return none;
  const s = stepState(ctx.state, id);
  const gate = ctx.state.outcome?.gate;
  const failing = gate?.failing ?? failingFrom(s.outputs.failing);
  const skipped = gate?.skipped === true || s.status === 'skipped';
  // A checklist skipped after it failed did not pass; one skipped before it measured anything says nothing.
  const passed = skipped
    ? failing.length > 0
      ? false
      : null
    : (gate?.passed ?? (s.status === 'passed' ? true : s.status === 'failed' ? false : null));
  const checked = s.status === 'passed' || s.status === 'failed' || s.evidence.length > 0;
  const events = ctx.forStep(id);
  const at = s.finishedAt ?? events[events.length - 1]?.at ?? null;
  const skippedBy = s.skip ? `; it was then skipped by ${actorShort(s.skip.by)}: ${s.skip.reason}` : '';
  let note: RichText;
  if (passed === true) note = [`The recovery checklist passed at ${formatOffset(ctx.offset(at ?? ''))}.`];
  else if (passed === false) {
    note = [
      `The recovery checklist did not pass: ${failing.length} condition(s) failing at the last check${skippedBy}.`,
    ];
  } else if (skipped) note = [`The recovery checklist was skipped${skippedBy}.`];
  else if (checked) {
    note = [
      ctx.finished
        ? 'The recovery checklist was still being checked when the run ended; its last reading is below.'
        : 'The recovery checklist is being checked; its last reading is below.',
    ];
  } else {
    note = [
      ctx.finished ? 'The run ended before the recovery checklist.' : 'The run has not reached the checklist yet.',
    ];
  }
  return {
    checked,
    passed,
    stepId: id,
    at: checked ? at : null,
    failing,
    unchecked: strings(s.outputs.unchecked),
    acknowledgedRuns: strings(s.outputs.acknowledgedRuns),
    manualChecks: strings(s.outputs.manualChecks),
    otherTenants: strings(s.outputs.otherTenants),
    evidence: s.evidence,
    note,
  };
}

/** The first moment DecisionGraph answered with its database connected: healthz up, or an `/api/v1` read. */
function reachableAt(ctx: SummaryContext, gateId: string | null): string | null {
  for (const e of ctx.events) {
    if (e.type !== 'step_passed' && e.type !== 'step_waiting' && e.type !== 'step_failed') continue;
    if (e.type === 'step_passed' && e.stepId === gateId) return e.at;
    if (e.type !== 'step_failed' && e.outputs.healthz === 'up') return e.at;
    const read = e.evidence.some((item) => {
      const status = item.source.status;
      return (
        item.source.kind === 'http' &&
        (item.source.path ?? '').startsWith('/api/v1/') &&
        typeof status === 'number' &&
        status >= 200 &&
        status < 300
      );
    });
    if (read) return e.at;
  }
  return null;
}

function healthyAt(ctx: SummaryContext, gateId: string | null): string | null {
  if (gateId === null) return null;
  const passed = ctx.events.find((e) => e.type === 'step_passed' && e.stepId === gateId);
  return passed?.at ?? null;
}

/**
 * The incident summary of one run, from its event log and the scenario definitions. Pure and deterministic: no
 * clock, no I/O; every time comes from the events, lists keep log or scenario order. Throws the fold's
 * `RunLogInvalidError` / `RunLogOutOfOrderError` for a log that is not a run's.
 */
export function buildIncidentSummary(events: readonly RunEvent[], scenarios: ScenarioCatalog): IncidentSummary {
  const ctx = createContext(events, scenarios);
  const { state } = ctx;
  const steps = stepSummaries(ctx);
  const hostActions = hostActionSummaries(ctx);
  const health = finalHealth(ctx);
  const gateId = health.stepId;
  const endedAt = state.outcome?.at ?? null;
  const reachable = reachableAt(ctx, gateId);
  const healthy = healthyAt(ctx, gateId);
  const last = ctx.events[ctx.events.length - 1];
  const params = Object.keys(state.params)
    .sort()
    .filter((k) => state.params[k] !== undefined)
    .map((name) => ({ name, value: String(state.params[name]) }));
  const abortEvent = ctx.events.find((e) => e.type === 'run_aborted');
  return {
    runId: state.runId,
    scenario: {
      name: state.scenario,
      title: ctx.scenario?.title ?? state.scenario,
      version: state.scenarioVersion,
      known: ctx.scenario !== undefined,
    },
    tenantId: state.tenantId,
    trigger: {
      startedBy: state.startedBy,
      ...(state.channelId !== undefined ? { channelId: state.channelId } : {}),
      params,
      ...(state.params.switchedFrom !== undefined ? { switchedFrom: state.params.switchedFrom } : {}),
    },
    outcome: state.outcome?.outcome ?? 'in_progress',
    ...(state.outcome?.reason !== undefined ? { outcomeReason: state.outcome.reason } : {}),
    ...(state.outcome?.switchTo !== undefined ? { switchTo: state.outcome.switchTo } : {}),
    ...(state.abort
      ? {
          abort: {
            by: state.abort.by,
            reason: state.abort.reason,
            at: state.abort.at,
            ...(abortEvent?.type === 'run_aborted' && abortEvent.stepId !== undefined
              ? { stepId: abortEvent.stepId }
              : {}),
          },
        }
      : {}),
    times: {
      startedAt: state.startedAt,
      endedAt,
      durationMs: msBetween(state.startedAt, endedAt),
      reachableAt: reachable,
      timeToReachableMs: msBetween(state.startedAt, reachable),
      healthyAt: healthy,
      timeToHealthyMs: msBetween(state.startedAt, healthy),
      lastEventAt: last?.at ?? state.startedAt,
    },
    steps,
    decisions: decisionSummaries(ctx),
    approvals: approvalSummaries(ctx),
    hostActions,
    manualActions: manualActionSummaries(ctx),
    finalHealth: health,
    followUps: followUps(ctx, steps, hostActions, health),
    timeline: timeline(ctx),
    eventCount: ctx.events.length,
  };
}
