import { isJsonObject } from '../../runbook/json.js';
import { fillTemplate } from '../../runbook/requests.js';
import { type DecisionStep, isExecutorStep, type Step } from '../../runbook/scenario-schema.js';
import { type DecisionRecord, stepState } from '../../runbook/state.js';
import { formatOffset } from '../../runbook/time-format.js';
import type { SummaryContext } from './context.js';
import { formatJson } from './format.js';
import type { ManualActionItem, ManualActionStatus, ManualActionSummary, RichText } from './types.js';

// The runbook's "manual actions that are still required", as they applied to this run: which ones people decided
// (who, when, why), which are still open, which the run never reached, and which this scenario does not have.

const AUTH_ERROR_CODES = new Set(['DG_ERR_API_UNAUTHORIZED', 'DG_ERR_API_FORBIDDEN']);

function isDecision(step: Step): step is DecisionStep {
  return step.kind === 'decision';
}

function decisionItem(ctx: SummaryContext, d: DecisionRecord): ManualActionItem {
  const label: RichText = d.item ? [d.item.label] : [`${ctx.title(d.stepId)}`];
  return {
    label,
    decision: `${d.option?.label ?? d.optionId}${d.value !== undefined ? `: ${d.value}` : ''}`,
    by: d.by,
    at: d.at,
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
  };
}

/** The run ended (or has not yet come) before a step: the wording for "not checked". */
function notReached(ctx: SummaryContext, stepId: string): RichText {
  const s = stepState(ctx.state, stepId);
  if (s.status === 'skipped' && s.skip) return [`${ctx.title(stepId)}: skipped (${s.skip.reason})`];
  return ctx.finished
    ? [`The run ended before "${ctx.title(stepId)}".`]
    : [`The run has not reached "${ctx.title(stepId)}" yet.`];
}

function statusOfDecisionSteps(ctx: SummaryContext, steps: readonly DecisionStep[]): ManualActionStatus {
  const decided = ctx.state.decisions.some((d) => steps.some((s) => s.id === d.stepId));
  if (decided) return 'decided';
  const asked = ctx.events.some((e) => e.type === 'decision_requested' && steps.some((s) => s.id === e.stepId));
  if (asked) return 'open';
  if (steps.every((s) => stepState(ctx.state, s.id).status === 'skipped')) return 'not_needed';
  return 'not_checked';
}

/**
 * A manual action asked as decision steps (the first is the one named when it was not reached or not answered):
 * `detail` gets what that status needs said, the items are the decisions people made.
 */
function decidedIn(
  ctx: SummaryContext,
  base: Pick<ManualActionSummary, 'id' | 'title'>,
  steps: readonly DecisionStep[],
  status: ManualActionStatus,
  detail: RichText[number][],
): ManualActionSummary {
  const first = steps[0] as DecisionStep;
  if (status === 'not_checked' || status === 'not_needed') detail.push(...notReached(ctx, first.id));
  if (status === 'open') detail.push(`Asked in "${first.title}", not answered.`);
  return {
    ...base,
    status,
    detail,
    items: ctx.state.decisions.filter((d) => steps.some((s) => s.id === d.stepId)).map((d) => decisionItem(ctx, d)),
  };
}

function orphanedRuns(ctx: SummaryContext): ManualActionSummary {
  const base = {
    id: 'orphaned_runs' as const,
    title: 'Replay runs a crash left behind: ignore, retry or replace with a rebuild',
  };
  const step = ctx.scenario?.steps.filter(isDecision).find((s) => s.forEach?.acknowledgesRuns === true);
  const source = step?.forEach;
  if (step === undefined || source === undefined) {
    return {
      ...base,
      status: 'not_applicable',
      detail: ['This scenario does not look for orphaned replay runs; the recovery checklist fails on any it finds.'],
      items: [],
    };
  }
  const inspect = stepState(ctx.state, source.step);
  if (inspect.status !== 'passed') {
    return { ...base, status: 'not_checked', detail: notReached(ctx, source.step), items: [] };
  }
  const found = Array.isArray(inspect.outputs[source.output])
    ? (inspect.outputs[source.output] as unknown[]).filter(isJsonObject)
    : [];
  if (found.length === 0) {
    return {
      ...base,
      status: 'not_needed',
      detail: [`None found by "${ctx.title(source.step)}".`],
      items: [],
    };
  }
  const decisions = ctx.state.decisions.filter((d) => d.stepId === step.id);
  const items: ManualActionItem[] = found.map((values) => {
    const id = String(values[source.id] ?? '');
    const d = decisions.find((x) => x.item?.id === id);
    return d ? decisionItem(ctx, d) : { label: [fillTemplate(source.label, values), ': not decided'] };
  });
  const open = items.filter((i) => i.decision === undefined).length;
  return {
    ...base,
    status: open > 0 ? 'open' : 'decided',
    detail: [
      `${found.length} replay run(s) marked queued or running while no replay job was live` +
        (open > 0 ? `; ${open} not decided.` : '; each decided by a person.'),
    ],
    items,
  };
}

function semanticOrTransient(ctx: SummaryContext): ManualActionSummary {
  const base = {
    id: 'semantic_or_transient' as const,
    title: 'Projection problem: transient (catch_up) or semantic (rebuild)',
  };
  const decisionSteps = ctx.scenario?.steps.filter(isDecision) ?? [];
  const choice = decisionSteps.filter(
    (s) => s.options.some((o) => o.id === 'catch_up') && s.options.some((o) => o.id === 'rebuild'),
  );
  if (choice.length === 0) {
    return {
      ...base,
      status: 'not_applicable',
      detail: ['This scenario does not choose between catch_up and rebuild.'],
      items: [],
    };
  }
  // The decision offered when DecisionGraph refuses the rebuild belongs to the same question.
  const refused = decisionSteps.filter(
    (s) => s.when !== undefined && 'error' in s.when && s.when.error.includes('rebuild_forbidden'),
  );
  const steps = [...choice, ...refused];
  const detail: RichText[number][] = [];
  const classify = (ctx.scenario?.steps ?? []).find(
    (s) => isExecutorStep(s) && (s.judge === 'failures.classify' || s.executor === 'sql.projection_failures'),
  );
  if (classify !== undefined) {
    const c = stepState(ctx.state, classify.id);
    if (c.status === 'passed') {
      detail.push(
        `Open failure rows: ${formatJson(c.outputs.openFailures)}, classified ${formatJson(c.outputs.kinds)}, ` +
          `suggesting ${formatJson(c.outputs.suggested)}. `,
      );
    }
  }
  return decidedIn(ctx, base, steps, statusOfDecisionSteps(ctx, steps), detail);
}

function backupChoice(ctx: SummaryContext): ManualActionSummary {
  const base = { id: 'backup_choice' as const, title: 'Restoring the right backup artifact' };
  const all = ctx.scenario?.steps ?? [];
  const steps = all.filter(isDecision).filter((s) => {
    const from = s.optionsFrom?.step;
    const source = from === undefined ? undefined : all.find((x) => x.id === from);
    return source !== undefined && isExecutorStep(source) && source.executor === 'host.list_backups';
  });
  if (steps.length === 0) {
    return { ...base, status: 'not_applicable', detail: ['This scenario restores no backup.'], items: [] };
  }
  const status = statusOfDecisionSteps(ctx, steps);
  const detail: RichText[number][] = [];
  const restore = all.find((s) => isExecutorStep(s) && s.executor === 'host.restore_backup');
  if (restore !== undefined) {
    const r = stepState(ctx.state, restore.id);
    if (r.status === 'passed') detail.push(`Restored at ${formatOffset(ctx.offset(r.finishedAt ?? ''))}. `);
    else if (r.status === 'failed') detail.push(`The restore failed: ${r.error?.message ?? 'unknown error'}. `);
    else if (status === 'decided') detail.push('Chosen, but not restored. ');
  }
  return decidedIn(ctx, base, steps, status, detail);
}

function serviceAccounts(ctx: SummaryContext): ManualActionSummary {
  const base = { id: 'service_accounts' as const, title: 'Maintaining and testing the service-account configuration' };
  // One line per step that met a refusal, first occurrence: the call, its status and the error code.
  const hits = new Map<string, { at: string; call?: string; error?: { code: string; message: string } }>();
  for (const e of ctx.events) {
    if (
      e.type !== 'step_passed' &&
      e.type !== 'step_failed' &&
      e.type !== 'step_waiting' &&
      e.type !== 'step_rechecked'
    ) {
      continue;
    }
    // A refused rebuild is a deployment switch, not an account problem.
    if (e.type === 'step_failed' && e.error.code === 'rebuild_forbidden') continue;
    const hit = hits.get(e.stepId) ?? { at: e.at };
    if (e.type === 'step_failed' && AUTH_ERROR_CODES.has(e.error.code)) hit.error ??= e.error;
    for (const item of e.evidence) {
      const status = item.source.status;
      if (item.source.kind !== 'http' || (status !== 401 && status !== 403)) continue;
      hit.call ??= `${status} on ${item.source.method ?? ''} ${item.source.path ?? item.label}`.replace('  ', ' ');
    }
    if ((hit.call !== undefined || hit.error !== undefined) && !hits.has(e.stepId)) hits.set(e.stepId, hit);
  }
  const items: ManualActionItem[] = [...hits.entries()].map(([stepId, hit]) => ({
    label: [
      `${ctx.title(stepId)}: ${hit.call ?? 'refused'}`,
      ...(hit.error ? [' (', { code: hit.error.code }, ` ${hit.error.message})`] : []),
    ],
    at: hit.at,
  }));
  if (items.length === 0) {
    return {
      ...base,
      status: 'not_needed',
      detail: ['No authentication or permission error was seen in this run.'],
      items: [],
    };
  }
  return {
    ...base,
    status: 'reminder',
    detail: [
      "DecisionGraph refused the bot's token or its role, tenant or permission: check the service accounts " +
        '(tokens, roles, tenant_ids, permissions) and test them; DecisionGraph reads them only at boot.',
    ],
    items,
  };
}

export function manualActionSummaries(ctx: SummaryContext): ManualActionSummary[] {
  return [orphanedRuns(ctx), semanticOrTransient(ctx), backupChoice(ctx), serviceAccounts(ctx)];
}
