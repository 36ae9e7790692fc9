import { z } from 'zod';
import { isJsonObject, type Json, type JsonObject } from './json.js';
import { type RunState, stepState } from './state.js';

/**
 * Where a step parameter comes from at run time: a run parameter (`traceId`), the run itself, a decision taken
 * earlier (`option` id, `choice` = the typed value or the option's value or its id, `reason`), or an output of an
 * earlier step (the first of several steps that passed with that output).
 */
export type ParamRef =
  | { readonly from: 'param'; readonly name: string }
  | { readonly from: 'run'; readonly field: 'runId' | 'tenantId' | 'scenario' | 'startedAt' }
  | { readonly from: 'decision'; readonly step: string; readonly field: 'option' | 'choice' | 'reason' }
  | { readonly from: 'step'; readonly step: string | readonly string[]; readonly output: string };

/**
 * A literal JSON value, or `{ $ref, fallback? }`. A string `fallback` may use `{run_id}`, `{scenario}` and
 * `{tenant_id}`.
 */
export type ParamValue = Json | { readonly $ref: ParamRef; readonly fallback?: Json };

const id = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);

export const ParamRefSchema: z.ZodType<ParamRef> = z.union([
  z.strictObject({ from: z.literal('param'), name: z.string().min(1) }),
  z.strictObject({ from: z.literal('run'), field: z.enum(['runId', 'tenantId', 'scenario', 'startedAt']) }),
  z.strictObject({ from: z.literal('decision'), step: id, field: z.enum(['option', 'choice', 'reason']) }),
  z.strictObject({ from: z.literal('step'), step: z.union([id, z.array(id).min(1)]), output: z.string().min(1) }),
]);

export const ParamValueSchema: z.ZodType<ParamValue> = z.union([
  z.strictObject({ $ref: ParamRefSchema, fallback: z.json().optional() }),
  z.json().refine((v) => !isJsonObject(v) || !('$ref' in v), 'a $ref needs a valid reference'),
]) as z.ZodType<ParamValue>;

export function isParamRef(value: ParamValue): value is { readonly $ref: ParamRef; readonly fallback?: Json } {
  return isJsonObject(value) && '$ref' in value;
}

/** The step and decision ids a parameter reads. */
export function paramReferences(value: ParamValue): { steps: string[]; decisions: string[] } {
  if (!isParamRef(value)) return { steps: [], decisions: [] };
  const ref = value.$ref;
  if (ref.from === 'step') return { steps: typeof ref.step === 'string' ? [ref.step] : [...ref.step], decisions: [] };
  if (ref.from === 'decision') return { steps: [], decisions: [ref.step] };
  return { steps: [], decisions: [] };
}

/** The latest decision recorded for a (non per-item) decision step. */
export function latestDecision(state: RunState, stepId: string) {
  for (let i = state.decisions.length - 1; i >= 0; i--) {
    const d = state.decisions[i];
    if (d !== undefined && d.stepId === stepId) return d;
  }
  return undefined;
}

/** The value a decision hands to later steps: what was typed, else the option's value, else the option id. */
export function decisionChoice(state: RunState, stepId: string): Json | undefined {
  const d = latestDecision(state, stepId);
  if (d === undefined) return undefined;
  return d.value ?? d.option?.value ?? d.optionId;
}

export function fillRunPlaceholders(text: string, state: RunState): string {
  return text
    .replaceAll('{run_id}', state.runId)
    .replaceAll('{scenario}', state.scenario)
    .replaceAll('{tenant_id}', state.tenantId);
}

export function resolveParam(value: ParamValue, state: RunState): Json | undefined {
  if (!isParamRef(value)) return value as Json;
  const resolved = lookup(value.$ref, state);
  if (resolved !== undefined && resolved !== '') return resolved;
  if (value.fallback === undefined) return undefined;
  return typeof value.fallback === 'string' ? fillRunPlaceholders(value.fallback, state) : value.fallback;
}

/** Resolves every parameter; ones that resolve to nothing are left out, for the executor to refuse clearly. */
export function resolveParams(params: Readonly<Record<string, ParamValue>> | undefined, state: RunState): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    const resolved = resolveParam(value, state);
    if (resolved !== undefined) out[key] = resolved;
  }
  return out;
}

function lookup(ref: ParamRef, state: RunState): Json | undefined {
  switch (ref.from) {
    case 'param':
      return state.params[ref.name];
    case 'run':
      return ref.field === 'startedAt'
        ? state.startedAt
        : ref.field === 'runId'
          ? state.runId
          : ref.field === 'tenantId'
            ? state.tenantId
            : state.scenario;
    case 'decision': {
      const d = latestDecision(state, ref.step);
      if (d === undefined) return undefined;
      if (ref.field === 'option') return d.optionId;
      if (ref.field === 'reason') return d.reason;
      return decisionChoice(state, ref.step);
    }
    case 'step': {
      for (const stepId of typeof ref.step === 'string' ? [ref.step] : ref.step) {
        const step = stepState(state, stepId);
        const value = step.outputs[ref.output];
        if (step.status === 'passed' && value !== undefined) return value;
      }
      return undefined;
    }
  }
}
