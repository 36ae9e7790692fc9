import { z } from 'zod';
import { type Condition, ConditionSchema, conditionReferences } from './conditions.js';
import { ScenarioInvalidError } from './errors.js';
import { DEFAULT_JUDGE, JUDGE_NAMES, type JudgeName, judgeAccepts } from './judges/index.js';
import { EXECUTOR_NAMES, type ExecutorName, type JobExecutorName } from './measurements.js';
import { type ParamValue, ParamValueSchema, paramReferences } from './params.js';

/** The five scenarios of the runbook; decisions may switch a run to another one. */
export const SCENARIO_NAMES = ['restart', 'postgres', 'projections', 'event-log', 'upgrade'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const stepId = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lower_snake_case, at most 63 characters');
const ms = z.number().int().positive();
const text = (max: number) => z.string().min(1).max(max);

export const RiskSchema = z.enum(['read_only', 'safe_write', 'destructive']);
export type Risk = z.infer<typeof RiskSchema>;

export const PollSchema = z.strictObject({
  /** Delay before the first re-check. */
  initialMs: ms,
  /** Longest delay between checks. */
  maxMs: ms,
  /** Growth of the delay per check. @defaultValue 2 */
  factor: z.number().min(1).max(10).default(2),
});
export type Poll = z.infer<typeof PollSchema>;

export const RetrySchema = z.strictObject({
  /** Attempts in all, the first included, before a transient failure pauses the run. */
  attempts: z.number().int().min(1).max(10),
  backoffMs: ms,
  /** @defaultValue 2 */
  factor: z.number().min(1).max(10).default(2),
});
export type Retry = z.infer<typeof RetrySchema>;

/** `continue`, `abort`, `skip_to:<stepId>` (skip the steps in between), `end:switched:<scenario>`. */
export const EffectSchema = z.union([
  z.literal('continue'),
  z.literal('abort'),
  z.templateLiteral(['skip_to:', stepId]),
  z.templateLiteral(['end:switched:', z.enum(SCENARIO_NAMES)]),
]);
export type Effect = z.infer<typeof EffectSchema>;

const executorName = z.enum(EXECUTOR_NAMES);
const jobExecutorName = z.enum(EXECUTOR_NAMES.filter((e) => e !== 'manual') as [JobExecutorName, ...JobExecutorName[]]);
const judgeName = z.enum(JUDGE_NAMES);
const params = z.record(z.string(), ParamValueSchema);

const common = {
  id: stepId,
  title: text(120),
  risk: RiskSchema,
  /** Why the step is there, for people (often a trap of the contract the runbook does not mention). */
  why: text(1000).optional(),
  /** The step runs only when this holds; otherwise it is skipped with the condition as the reason. */
  when: ConditionSchema.optional(),
};

const executorFields = {
  ...common,
  executor: executorName,
  /** @defaultValue the executor's default judge */
  judge: judgeName.optional(),
  params: params.optional(),
  /** Values the judge compares against, also shown as evidence. */
  expected: z.record(z.string(), z.json()).optional(),
  /** Time allowed for one executor call. @defaultValue 30000 */
  timeoutMs: ms.optional(),
  /** For polled steps: how long the checks may go on before the step fails (or passes, see `onDeadline`). */
  deadlineMs: ms.optional(),
  poll: PollSchema.optional(),
  retry: RetrySchema.optional(),
  /**
   * For actions with side effects: a probe run before repeating the action after an interruption or a failed
   * attempt; if it passes, the effect is already there and the action is not repeated.
   */
  recheck: z
    .strictObject({
      executor: jobExecutorName,
      judge: judgeName.optional(),
      params: params.optional(),
      /**
       * After an interrupted attempt (started, no outcome recorded): how long after its start the effect may take
       * to show, e.g. a node booting. The re-check is read again until then before the action counts as not done
       * and runs again. @defaultValue none: one reading decides
       */
      waitMs: ms.optional(),
      /** How often the re-check is read while it waits. @defaultValue 2 s, doubling up to 15 s */
      poll: PollSchema.optional(),
    })
    .optional(),
  /**
   * The symptom the step looks for, in a few words (`healthz does not answer`): when a check of a passed step does
   * not hold, the thread says "Confirmed: …" instead of showing a failure under a passed step.
   */
  confirms: text(120).optional(),
  /** Repeating the action is harmless, so it needs no re-check. */
  idempotent: z.boolean().optional(),
  /** Failure codes that end the step without pausing the run (a later step reacts to them). */
  continueOnFailure: z.array(text(100)).optional(),
  /**
   * Makes the step a safety check of these later destructive steps: they never run while it failed, and skipping
   * it after a failure needs a second person, as an approval does. @defaultValue none
   */
  safetyCheckFor: z.array(stepId).min(1).optional(),
  /**
   * Failures no Retry can fix (the deployment forbids what the run needs): the run ends `failed` instead of
   * pausing, its reason naming what people must do next. Checked before `continueOnFailure`.
   */
  endRunOn: z
    .array(z.strictObject({ error: z.array(text(100)).min(1), when: ConditionSchema.optional(), next: text(1000) }))
    .optional(),
  /** What a polled step does at its deadline. @defaultValue 'fail' */
  onDeadline: z.enum(['fail', 'pass']).optional(),
  /** For the `manual` executor: what the person is asked to do. */
  instructions: text(2000).optional(),
  /**
   * Actions with side effects: what a person checks to tell whether an interrupted run of the action finished,
   * when the bot cannot probe it. @defaultValue a generic hint (the action's own log and its effect)
   */
  interruptedCheck: text(500).optional(),
};

export const ProbeStepSchema = z.strictObject({ kind: z.literal('probe'), ...executorFields });
export const GateStepSchema = z.strictObject({ kind: z.literal('gate'), ...executorFields });
export const ActionStepSchema = z.strictObject({ kind: z.literal('action'), ...executorFields });
export const WaitUntilStepSchema = z.strictObject({
  kind: z.literal('wait_until'),
  ...executorFields,
  poll: PollSchema,
  deadlineMs: ms,
});

export const OptionSpecSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/),
  /** May use `{value}`, the option's resolved value. */
  label: text(300),
  detail: text(1000).optional(),
  recommended: z.boolean().optional(),
  /** Recommended when this holds (computed when the decision is asked). */
  recommendedWhen: ConditionSchema.optional(),
  needsReason: z.boolean().optional(),
  needsValue: z
    .strictObject({ label: text(200), pattern: text(500), maxLength: z.number().int().positive().max(500) })
    .optional(),
  /** Handed to later steps as the decision's `choice`. */
  value: ParamValueSchema.optional(),
  /** Offered only when this holds. */
  when: ConditionSchema.optional(),
  /** @defaultValue 'continue' */
  effect: EffectSchema.optional(),
});
export type OptionSpec = z.infer<typeof OptionSpecSchema>;
export type OptionSpecInput = z.input<typeof OptionSpecSchema>;

const itemSource = z.strictObject({
  step: stepId,
  output: text(100),
  /** Key of the item that identifies it. */
  id: text(100),
  /** Template over the item's keys, e.g. `{label} ({created_at})`. */
  label: text(300),
  detail: text(1000).optional(),
});

export const DecisionStepSchema = z.strictObject({
  kind: z.literal('decision'),
  ...common,
  prompt: text(2000),
  options: z.array(OptionSpecSchema),
  /** Options built from an earlier step's output list (e.g. backup artifacts), offered before `options`. */
  optionsFrom: itemSource.extend({ recommendedFrom: text(100).optional() }).optional(),
  /** Ask once per item of an earlier step's output list (e.g. each orphaned replay run). */
  forEach: itemSource.extend({ acknowledgesRuns: z.boolean().optional() }).optional(),
  /** Steps whose evidence is shown with the question. */
  evidenceFrom: z.array(stepId).optional(),
});

export const ApprovalStepSchema = z.strictObject({
  kind: z.literal('approval'),
  ...common,
  prompt: text(2000),
  /** The destructive step right after this one. */
  guards: stepId,
  /** What the approver sees, re-measured before the guarded step runs: the step is run again and compared. */
  fingerprintOf: z.strictObject({
    step: stepId.optional(),
    outputs: z.array(text(100)).optional(),
    decisions: z.array(stepId).optional(),
  }),
  retry: RetrySchema.optional(),
});

export const StepSchema = z.discriminatedUnion('kind', [
  ProbeStepSchema,
  GateStepSchema,
  ActionStepSchema,
  WaitUntilStepSchema,
  DecisionStepSchema,
  ApprovalStepSchema,
]);

export type Step = z.infer<typeof StepSchema>;
export type StepInput = z.input<typeof StepSchema>;
export type ExecutorStep = Extract<Step, { kind: 'probe' | 'gate' | 'action' | 'wait_until' }>;
export type DecisionStep = Extract<Step, { kind: 'decision' }>;
export type ApprovalStep = Extract<Step, { kind: 'approval' }>;
export type StepKind = Step['kind'];

export const ScenarioSchema = z.strictObject({
  name: z.enum(SCENARIO_NAMES),
  /**
   * Raised whenever a change would mislead a run already under way: a step added, removed, reordered or renamed,
   * an output or option whose meaning changed. Runs started on another version stop and can only be aborted,
   * unless that version is listed in `compatibleWith`.
   */
  version: z.number().int().positive(),
  /**
   * Earlier versions whose unfinished runs this data may continue: list one only when every step, output and
   * option such a run may have reached still means the same. @defaultValue none
   */
  compatibleWith: z.array(z.number().int().positive()).optional(),
  title: text(200),
  summary: text(2000),
  aliases: z.array(z.string().regex(/^[a-z][a-z0-9-]{0,40}$/)),
  /** `node`: one run per DecisionGraph deployment; `tenant`: one run per tenant. */
  scope: z.enum(['node', 'tenant']),
  /** Run parameters the scenario cannot run without. */
  requires: z.array(z.enum(['traceId', 'workflowId', 'previousRelease'])),
  steps: z.array(StepSchema).min(1),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioInput = z.input<typeof ScenarioSchema>;

export function isExecutorStep(step: Step): step is ExecutorStep {
  return step.kind === 'probe' || step.kind === 'gate' || step.kind === 'action' || step.kind === 'wait_until';
}

export function judgeOf(step: ExecutorStep): JudgeName | undefined {
  if (step.executor === 'manual') return undefined;
  return step.judge ?? DEFAULT_JUDGE[step.executor];
}

/** Parses and cross-checks scenario data; throws {@link ScenarioInvalidError} with every problem found. */
export function parseScenario(data: unknown): Scenario {
  const parsed = ScenarioSchema.safeParse(data);
  const name = typeof data === 'object' && data !== null && 'name' in data ? String(data.name) : '(unnamed)';
  if (!parsed.success) {
    throw new ScenarioInvalidError(
      name,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(scenario)'}: ${i.message}`),
    );
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new ScenarioInvalidError(name, problems);
  return deepFreeze(parsed.data);
}

/** The rules zod cannot see: references point backwards, destructive steps are guarded, the gate closes. */
export function crossCheck(scenario: Scenario): string[] {
  const problems: string[] = [];
  const index = new Map<string, number>();
  scenario.steps.forEach((step, i) => {
    if (index.has(step.id)) problems.push(`${step.id}: duplicate step id`);
    index.set(step.id, i);
  });
  const byId = new Map(scenario.steps.map((s) => [s.id, s]));
  const earlier = (at: number, id: string, what: string, where: string, kind?: Step['kind']) => {
    const i = index.get(id);
    if (i === undefined) problems.push(`${where}: ${what} ${id} does not exist`);
    else if (i >= at) problems.push(`${where}: ${what} ${id} must come earlier`);
    else if (kind !== undefined && byId.get(id)?.kind !== kind) problems.push(`${where}: ${id} is not a ${kind} step`);
  };
  const checkCondition = (at: number, c: Condition, where: string) => {
    const refs = conditionReferences(c);
    for (const s of refs.steps) earlier(at, s, 'step', where);
    for (const d of refs.decisions) earlier(at, d, 'decision', where, 'decision');
  };
  const checkParams = (at: number, p: Readonly<Record<string, ParamValue>> | undefined, where: string) => {
    for (const [key, value] of Object.entries(p ?? {})) {
      const refs = paramReferences(value);
      for (const s of refs.steps) earlier(at, s, 'step', `${where}.${key}`);
      for (const d of refs.decisions) earlier(at, d, 'decision', `${where}.${key}`, 'decision');
    }
  };

  scenario.steps.forEach((step, i) => {
    const where = step.id;
    if (step.when) checkCondition(i, step.when, `${where}.when`);
    if (isExecutorStep(step)) {
      checkExecutorStep(step, problems);
      checkParams(i, step.params, `${where}.params`);
      if (step.recheck) checkParams(i, step.recheck.params, `${where}.recheck.params`);
      checkSafetyCheck(step, i, byId, index, problems);
      for (const rule of step.endRunOn ?? []) if (rule.when) checkCondition(i, rule.when, `${where}.endRunOn.when`);
      if (step.risk === 'destructive') {
        const guard = scenario.steps[i - 1];
        if (guard?.kind !== 'approval' || guard.guards !== step.id) {
          problems.push(`${where}: a destructive step needs an approval step right before it that guards it`);
        }
      }
    } else if (step.kind === 'decision') {
      checkDecision(step, i, scenario, index, problems, checkCondition, checkParams, earlier);
    } else {
      const next = scenario.steps[i + 1];
      if (step.guards !== next?.id)
        problems.push(`${where}: guards ${step.guards}, but must guard the step right after it`);
      else if (!isExecutorStep(next) || next.kind !== 'action' || next.risk !== 'destructive') {
        problems.push(`${where}: guards ${step.guards}, which is not a destructive action`);
      }
      const f = step.fingerprintOf;
      if (f.step === undefined && (f.decisions ?? []).length === 0) {
        problems.push(`${where}.fingerprintOf: name a step or decisions the approver sees`);
      }
      if (f.step !== undefined) {
        earlier(i, f.step, 'step', `${where}.fingerprintOf`);
        const source = byId.get(f.step);
        if (source !== undefined && (!isExecutorStep(source) || source.kind === 'wait_until' || source.poll)) {
          problems.push(`${where}.fingerprintOf: ${f.step} must be a single-reading probe or action`);
        }
      }
      for (const d of f.decisions ?? []) earlier(i, d, 'decision', `${where}.fingerprintOf`, 'decision');
    }
  });
  for (const v of scenario.compatibleWith ?? []) {
    if (v >= scenario.version) problems.push(`compatibleWith: ${v} is not an earlier version than ${scenario.version}`);
  }
  const last = scenario.steps[scenario.steps.length - 1];
  if (last?.kind !== 'gate') problems.push('the last step must be the checklist gate');
  for (const step of scenario.steps) {
    if (step.kind === 'gate' && step.when) problems.push(`${step.id}: a gate cannot be conditional`);
  }
  return problems;
}

function checkExecutorStep(step: ExecutorStep, problems: string[]): void {
  const where = step.id;
  if (step.executor === 'manual') {
    if (!step.instructions) problems.push(`${where}: a manual step needs instructions`);
    if (step.judge || step.poll || step.recheck)
      problems.push(`${where}: a manual step takes no judge, poll or recheck`);
    if (step.kind !== 'action') problems.push(`${where}: only an action can be manual`);
  } else {
    const judge = judgeOf(step);
    if (judge !== undefined && !judgeAccepts(judge, step.executor)) {
      problems.push(`${where}: judge ${judge} does not read ${step.executor} measurements`);
    }
    if (step.instructions) problems.push(`${where}: instructions belong to manual steps`);
  }
  if (step.recheck) {
    const judge = step.recheck.judge ?? DEFAULT_JUDGE[step.recheck.executor];
    if (!judgeAccepts(judge, step.recheck.executor)) {
      problems.push(`${where}.recheck: judge ${judge} does not read ${step.recheck.executor} measurements`);
    }
    if (step.recheck.poll && step.recheck.waitMs === undefined) {
      problems.push(`${where}.recheck: a poll needs waitMs`);
    }
  }
  if (step.poll && step.deadlineMs === undefined) problems.push(`${where}: a polled step needs deadlineMs`);
  if (step.poll && step.poll.maxMs < step.poll.initialMs) problems.push(`${where}.poll: maxMs is below initialMs`);
  if (step.kind === 'action' && step.risk !== 'read_only' && step.executor !== 'manual') {
    if (!step.recheck && step.idempotent !== true) {
      problems.push(`${where}: an action with side effects needs a recheck or idempotent: true`);
    }
  }
  if (step.onDeadline && !step.poll) problems.push(`${where}: onDeadline needs a poll`);
}

/** A safety check guards later destructive actions, and no failure of it lets the run go past on its own. */
function checkSafetyCheck(
  step: ExecutorStep,
  i: number,
  byId: ReadonlyMap<string, Step>,
  index: ReadonlyMap<string, number>,
  problems: string[],
): void {
  for (const target of step.safetyCheckFor ?? []) {
    const where = `${step.id}.safetyCheckFor`;
    const at = index.get(target);
    const guarded = byId.get(target);
    if (at === undefined || guarded === undefined) problems.push(`${where}: step ${target} does not exist`);
    else if (at <= i) problems.push(`${where}: ${target} must come later`);
    else if (guarded.kind !== 'action' || guarded.risk !== 'destructive') {
      problems.push(`${where}: ${target} is not a destructive action`);
    }
  }
  if (step.safetyCheckFor !== undefined && (step.continueOnFailure ?? []).length > 0) {
    problems.push(`${step.id}: a safety check cannot continueOnFailure`);
  }
}

function checkDecision(
  step: DecisionStep,
  i: number,
  scenario: Scenario,
  index: ReadonlyMap<string, number>,
  problems: string[],
  checkCondition: (at: number, c: Condition, where: string) => void,
  checkParams: (at: number, p: Readonly<Record<string, ParamValue>> | undefined, where: string) => void,
  earlier: (at: number, id: string, what: string, where: string) => void,
): void {
  const where = step.id;
  if (step.options.length === 0 && !step.optionsFrom) problems.push(`${where}: a decision needs options`);
  if (step.optionsFrom && step.forEach) problems.push(`${where}: optionsFrom and forEach do not combine`);
  const ids = new Set<string>();
  for (const option of step.options) {
    const at = `${where}.options.${option.id}`;
    if (ids.has(option.id)) problems.push(`${at}: duplicate option id`);
    ids.add(option.id);
    if (option.when) checkCondition(i, option.when, `${at}.when`);
    if (option.recommendedWhen) checkCondition(i, option.recommendedWhen, `${at}.recommendedWhen`);
    if (option.value !== undefined) checkParams(i, { value: option.value }, at);
    if (option.needsValue) {
      try {
        new RegExp(option.needsValue.pattern);
      } catch {
        problems.push(`${at}.needsValue.pattern: not a regular expression`);
      }
    }
    const effect = option.effect ?? 'continue';
    if (effect.startsWith('skip_to:')) {
      const target = effect.slice('skip_to:'.length);
      const t = index.get(target);
      if (t === undefined) problems.push(`${at}: skip_to target ${target} does not exist`);
      else if (t <= i + 1) problems.push(`${at}: skip_to target ${target} must come at least two steps later`);
      if (step.forEach) problems.push(`${at}: a per-item decision cannot skip steps`);
    }
    if (effect === `end:switched:${scenario.name}`) problems.push(`${at}: cannot switch to the same scenario`);
  }
  for (const source of [step.optionsFrom, step.forEach]) {
    if (source) earlier(i, source.step, 'step', `${where}.${source === step.forEach ? 'forEach' : 'optionsFrom'}`);
  }
  for (const e of step.evidenceFrom ?? []) earlier(i, e, 'step', `${where}.evidenceFrom`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export type { ExecutorName };
