import { clipLine, cut, MAX_DETAIL_VALUE, MAX_LABEL_VALUE } from '../outside-text.js';
import type { AccessPolicy } from './access.js';
import { evaluateCondition } from './conditions.js';
import type { DecisionItem, DecisionOption, Evidence, RunEventBody } from './events.js';
import { fingerprintOf, isJsonObject, type Json, type JsonObject } from './json.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import { decisionChoice, latestDecision, resolveParam } from './params.js';
import { findStep, pick } from './scenario-lookup.js';
import type { ApprovalStep, DecisionStep, Scenario } from './scenario-schema.js';
import { type RunState, stepState } from './state.js';

const MAX_REQUEST_EVIDENCE = 40;
/**
 * Options built from an earlier step's list (e.g. backup artifacts) offered at most; the recommended one is
 * always among them, and an option to type any other one covers the rest.
 */
export const MAX_LISTED_OPTIONS = 20;
const MAX_OPTION_LABEL = 300;
const MAX_OPTION_DETAIL = 1000;

/**
 * Fills `{key}` from `values`; unknown keys stay as they are, so a typo shows instead of vanishing. Values may
 * come from outside (a host action's output, DecisionGraph's rows): each is put on one line of at most
 * `maxValue` characters.
 */
export function fillTemplate(
  template: string,
  values: Readonly<Record<string, Json | undefined>>,
  maxValue = MAX_DETAIL_VALUE,
): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, key: string) => {
    const v = values[key];
    if (v === undefined) return whole;
    return clipLine(typeof v === 'string' ? v : JSON.stringify(v), maxValue);
  });
}

function listOutput(state: RunState, stepId: string, output: string): JsonObject[] {
  const step = stepState(state, stepId);
  if (step.status !== 'passed') return [];
  const value = step.outputs[output];
  return Array.isArray(value) ? value.filter(isJsonObject) : [];
}

function evidenceOf(state: RunState, stepIds: readonly string[] | undefined): Evidence[] {
  const items: Evidence[] = [];
  for (const id of stepIds ?? []) items.push(...stepState(state, id).evidence);
  return items.slice(0, MAX_REQUEST_EVIDENCE);
}

/** The items of a per-item decision, in the order the earlier step listed them. */
export function decisionItems(state: RunState, step: DecisionStep): { item: DecisionItem; values: JsonObject }[] {
  const source = step.forEach;
  if (source === undefined) return [];
  return listOutput(state, source.step, source.output).map((values) => ({
    item: {
      id: String(values[source.id] ?? '').slice(0, 200) || '?',
      label: cut(fillTemplate(source.label, values, MAX_LABEL_VALUE), 500),
    },
    values,
  }));
}

/** The options offered now: built from an earlier step's list first, then the data's options that apply. */
export function buildOptions(state: RunState, step: DecisionStep, itemValues: JsonObject = {}): DecisionOption[] {
  const staticIds = new Set(step.options.map((o) => o.id));
  const options = listedOptions(state, step, staticIds);
  let recommendedSet = options.some((o) => o.recommended === true);
  for (const spec of step.options) {
    if (spec.when !== undefined && !evaluateCondition(spec.when, state)) continue;
    const value = spec.value !== undefined ? resolveParam(spec.value, state) : undefined;
    if (spec.value !== undefined && value === undefined) continue;
    const wanted = spec.recommended ?? (spec.recommendedWhen ? evaluateCondition(spec.recommendedWhen, state) : false);
    const recommended: boolean = wanted && !recommendedSet;
    recommendedSet ||= recommended;
    const values = { ...itemValues, ...(value !== undefined ? { value } : {}) };
    options.push({
      id: spec.id,
      label: cut(fillTemplate(spec.label, values, MAX_LABEL_VALUE), MAX_OPTION_LABEL),
      ...(spec.detail ? { detail: cut(fillTemplate(spec.detail, values), MAX_OPTION_DETAIL) } : {}),
      ...(recommended ? { recommended: true } : {}),
      ...(spec.needsReason ? { needsReason: true } : {}),
      ...(spec.needsValue ? { needsValue: spec.needsValue } : {}),
      ...(value !== undefined ? { value } : {}),
      effect: spec.effect ?? 'continue',
    });
  }
  return markRejected(state, step.id, options);
}

/** An option whose approval was rejected stays offered, marked, and is never the recommended one. */
function markRejected(state: RunState, stepId: string, options: DecisionOption[]): DecisionOption[] {
  const rejected = state.rejectedDecisions.filter((r) => r.record.stepId === stepId);
  if (rejected.length === 0) return options;
  return options.map((o) => {
    const r = rejected.findLast((x) => x.record.optionId === o.id);
    if (r === undefined) return o;
    const { recommended: _, ...rest } = o;
    const suffix = ` (approval rejected by ${r.by.name ?? r.by.id})`;
    return { ...rest, label: `${cut(o.label, MAX_OPTION_LABEL - suffix.length)}${suffix}` };
  });
}

/**
 * The options `optionsFrom` builds, in the listed order, at most {@link MAX_LISTED_OPTIONS}. An entry whose id is
 * empty or too long to be an option id is left out rather than cut, since its id is the value later steps act on.
 */
function listedOptions(state: RunState, step: DecisionStep, staticIds: ReadonlySet<string>): DecisionOption[] {
  const from = step.optionsFrom;
  if (from === undefined) return [];
  const recommendedId = from.recommendedFrom ? stepState(state, from.step).outputs[from.recommendedFrom] : undefined;
  const options: DecisionOption[] = [];
  const seen = new Set<string>();
  for (const entry of listOutput(state, from.step, from.output)) {
    const raw = entry[from.id];
    const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
    if (id === '' || id.length > 200 || staticIds.has(id) || seen.has(id)) continue;
    seen.add(id);
    const recommended = id === recommendedId;
    options.push({
      id,
      label: cut(fillTemplate(from.label, entry, MAX_LABEL_VALUE), MAX_OPTION_LABEL) || id,
      ...(from.detail ? { detail: cut(fillTemplate(from.detail, entry), MAX_OPTION_DETAIL) } : {}),
      ...(recommended ? { recommended: true } : {}),
      value: id,
      effect: 'continue',
    });
  }
  if (options.length <= MAX_LISTED_OPTIONS) return options;
  const kept = options.slice(0, MAX_LISTED_OPTIONS);
  const recommended = options.find((o) => o.recommended === true);
  if (recommended !== undefined && !kept.includes(recommended)) kept[MAX_LISTED_OPTIONS - 1] = recommended;
  return kept;
}

/**
 * The next question of a decision step, or `null` when nothing is left to ask (every item decided, or the one
 * decision made).
 */
export function nextDecisionRequest(state: RunState, step: DecisionStep): RunEventBody | null {
  const evidenceItems = evidenceOf(state, step.evidenceFrom);
  if (step.forEach !== undefined) {
    const decided = new Set(state.decisions.filter((d) => d.stepId === step.id).map((d) => d.item?.id));
    const next = decisionItems(state, step).find((i) => !decided.has(i.item.id));
    if (next === undefined) return null;
    return {
      type: 'decision_requested',
      stepId: step.id,
      item: next.item,
      prompt: cut(fillTemplate(step.prompt, next.values), 2000),
      options: buildOptions(state, step, next.values),
      evidence: evidenceItems,
    };
  }
  if (latestDecision(state, step.id) !== undefined) return null;
  return {
    type: 'decision_requested',
    stepId: step.id,
    prompt: step.prompt,
    options: buildOptions(state, step),
    evidence: evidenceItems,
  };
}

/** The facts an approval is bound to: selected outputs of the measured step and the decisions behind it. */
export function approvalFacts(state: RunState, step: ApprovalStep, sourceOutputs?: JsonObject): JsonObject {
  const f = step.fingerprintOf;
  const outputs = f.step === undefined ? {} : pick(sourceOutputs ?? stepState(state, f.step).outputs, f.outputs);
  const decisions: JsonObject = {};
  for (const d of f.decisions ?? []) decisions[d] = decisionChoice(state, d) ?? null;
  return { outputs, decisions };
}

export function approvalFingerprint(state: RunState, step: ApprovalStep, sourceOutputs?: JsonObject): string {
  return fingerprintOf(approvalFacts(state, step, sourceOutputs));
}

function decisionEvidence(state: RunState, ids: readonly string[] | undefined): Evidence[] {
  const items: Evidence[] = [];
  for (const id of ids ?? []) {
    const d = latestDecision(state, id);
    if (d === undefined) continue;
    items.push(
      evidence(`decision ${id}`, d.option?.label ?? d.optionId, ENGINE_SOURCE, {
        detail: `chosen by ${d.by.name ?? d.by.id}${d.value !== undefined ? `: ${d.value}` : ''}${d.reason ? ` (${d.reason})` : ''}`,
      }),
    );
  }
  return items;
}

/**
 * The newest reading of what an approval is bound to: the source step's, or a later approval's re-check of the
 * same source (so a second approval on the same facts shows what was measured last, not the first reading).
 */
export function latestMeasurement(
  state: RunState,
  scenario: Scenario,
  step: ApprovalStep,
): { outputs: JsonObject; evidence: readonly Evidence[] } | undefined {
  const sourceId = step.fingerprintOf.step;
  if (sourceId === undefined) return undefined;
  const source = stepState(state, sourceId);
  let latest = { outputs: source.outputs, evidence: source.evidence as readonly Evidence[] };
  let at = source.finishedAt ?? '';
  for (const other of scenario.steps) {
    if (other.kind !== 'approval' || other.id === step.id || other.fingerprintOf.step !== sourceId) continue;
    const s = stepState(state, other.id);
    const m = s.outputs.measured;
    if (s.status === 'passed' && isJsonObject(m) && (s.finishedAt ?? '') >= at) {
      latest = { outputs: m, evidence: s.evidence };
      at = s.finishedAt ?? '';
    }
  }
  return latest;
}

export function approvalRequest(
  state: RunState,
  scenario: Scenario,
  step: ApprovalStep,
  round: number,
  access: AccessPolicy | undefined,
  measured?: { outputs: JsonObject; evidence: readonly Evidence[] },
): RunEventBody {
  const guarded = findStep(scenario, step.guards);
  const latest = measured ?? latestMeasurement(state, scenario, step);
  const sourceEvidence = latest?.evidence ?? [];
  return {
    type: 'approval_requested',
    stepId: step.id,
    round,
    guards: step.guards,
    prompt: `${guarded ? `${guarded.title}: ` : ''}${step.prompt}`.slice(0, 2000),
    approvers: access?.approvers ? [...access.approvers] : null,
    excluded: (access?.twoPersonRule ?? true) ? [state.startedBy.id] : [],
    fingerprint: approvalFingerprint(state, step, latest?.outputs),
    evidence: [...sourceEvidence, ...decisionEvidence(state, step.fingerprintOf.decisions)].slice(
      0,
      MAX_REQUEST_EVIDENCE,
    ),
  };
}
