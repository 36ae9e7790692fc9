import { z } from 'zod';
import type { JsonPrimitive } from './json.js';
import { type RunState, stepState } from './state.js';

/**
 * When a step runs, as data. A condition on a step's outputs holds only once that step has passed; a condition on
 * a decision holds when any decision recorded for that step (any item, for per-item decisions) chose the option.
 */
export type Condition =
  | { readonly step: string; readonly output: string; readonly in: readonly JsonPrimitive[] }
  | { readonly step: string; readonly output: string; readonly notIn: readonly JsonPrimitive[] }
  | { readonly step: string; readonly status: readonly ('passed' | 'failed' | 'skipped')[] }
  | { readonly step: string; readonly error: readonly string[] }
  | { readonly decision: string; readonly is: string }
  | { readonly decision: string; readonly in: readonly string[] }
  | { readonly param: string; readonly present: boolean }
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

const id = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/);
const primitive = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ step: id, output: z.string().min(1), in: z.array(primitive).min(1) }),
    z.strictObject({ step: id, output: z.string().min(1), notIn: z.array(primitive).min(1) }),
    z.strictObject({ step: id, status: z.array(z.enum(['passed', 'failed', 'skipped'])).min(1) }),
    z.strictObject({ step: id, error: z.array(z.string().min(1)).min(1) }),
    z.strictObject({ decision: id, is: z.string().min(1) }),
    z.strictObject({ decision: id, in: z.array(z.string().min(1)).min(1) }),
    z.strictObject({ param: z.string().min(1), present: z.boolean() }),
    z.strictObject({ all: z.array(ConditionSchema).min(1) }),
    z.strictObject({ any: z.array(ConditionSchema).min(1) }),
    z.strictObject({ not: ConditionSchema }),
  ]),
);

export function evaluateCondition(condition: Condition, state: RunState): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateCondition(c, state));
  if ('any' in condition) return condition.any.some((c) => evaluateCondition(c, state));
  if ('not' in condition) return !evaluateCondition(condition.not, state);
  if ('param' in condition) {
    const value = state.params[condition.param];
    return (value !== undefined && value !== '') === condition.present;
  }
  if ('decision' in condition) {
    const wanted = 'is' in condition ? [condition.is] : condition.in;
    return state.decisions.some((d) => d.stepId === condition.decision && wanted.includes(d.optionId));
  }
  const step = stepState(state, condition.step);
  if ('status' in condition) return (condition.status as readonly string[]).includes(step.status);
  if ('error' in condition) return step.status === 'failed' && condition.error.includes(step.error?.code ?? '');
  if (step.status !== 'passed') return false;
  const value = step.outputs[condition.output];
  const primitiveValue = value === undefined || (typeof value === 'object' && value !== null) ? undefined : value;
  if (primitiveValue === undefined) return 'notIn' in condition;
  return 'in' in condition ? condition.in.includes(primitiveValue) : !condition.notIn.includes(primitiveValue);
}

/** The step and decision ids a condition reads, to check that they come earlier in the scenario. */
export function conditionReferences(condition: Condition): { steps: string[]; decisions: string[] } {
  const steps: string[] = [];
  const decisions: string[] = [];
  const walk = (c: Condition): void => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('decision' in c) decisions.push(c.decision);
    else if ('step' in c) steps.push(c.step);
  };
  walk(condition);
  return { steps, decisions };
}

/** Short text for people, used as the reason a step was skipped. */
export function describeCondition(condition: Condition): string {
  if ('all' in condition) return condition.all.map(describeCondition).join(' and ');
  if ('any' in condition) return `(${condition.any.map(describeCondition).join(' or ')})`;
  if ('not' in condition) return `not (${describeCondition(condition.not)})`;
  if ('param' in condition) return `${condition.param} is ${condition.present ? 'set' : 'not set'}`;
  if ('decision' in condition) {
    return 'is' in condition
      ? `decision ${condition.decision} is ${condition.is}`
      : `decision ${condition.decision} is one of ${condition.in.join(', ')}`;
  }
  if ('status' in condition) return `step ${condition.step} ${condition.status.join(' or ')}`;
  if ('error' in condition) return `step ${condition.step} failed with ${condition.error.join(' or ')}`;
  if ('in' in condition) return `${condition.step}.${condition.output} is ${condition.in.map(String).join(' or ')}`;
  return `${condition.step}.${condition.output} is not ${condition.notIn.map(String).join(' or ')}`;
}
