import {
  type AccessPolicy,
  type Actor,
  applyAbort,
  applyApproval,
  applyDecision,
  applyManualResult,
  applyRetry,
  applySkip,
  beginStep,
  type CommandResult,
  decideNext,
  type EngineCommand,
  type EngineOptions,
  type ExecutorCall,
  foldRun,
  getScenario,
  type RunEvent,
  RunEventSchema,
  type RunState,
  recordOutcome,
  reduce,
  type Scenario,
  type ScenarioName,
  type StepOutcome,
  startRun,
} from '../../src/runbook/index.js';
import { latencyOf, type World } from './engine-world.js';

// Drives a run through the engine the way the job layer and the people in the thread do: start, begin a step,
// call the world, record, decide; buttons for decisions, approvals, Done, Retry, Skip and Abort. Every event the
// engine writes is checked against the schema the run log is read back with.

export const T0 = new Date('2026-03-07T12:00:00.000Z');

/** Who starts the run and who approves, under which access policy. */
export interface Crew {
  readonly starter: Actor;
  readonly approver: Actor;
  readonly access: AccessPolicy;
  readonly channelId?: string;
}

/** How the clock moves (ms): per executor call, after each job, and while people think before each click. */
export interface Pace {
  readonly call: (executor: string, outcome: StepOutcome) => number;
  readonly afterJob: number;
  readonly decision: number;
  readonly approval: number;
  readonly manual: number;
  readonly pause: number;
  readonly abort: number;
}

/** Only polls and backoffs move the clock (plus a little per job): for tests of the engine's own logic. */
export const QUICK: Pace = { call: () => 0, afterJob: 25, decision: 0, approval: 0, manual: 0, pause: 0, abort: 0 };

/** A real incident's clock: executor calls take their time, people take a while. */
export const INCIDENT: Pace = {
  // A host action configured as manual returns at once: the person's time is counted when they click Done.
  call: (executor, outcome) =>
    outcome.kind === 'measured' && 'mode' in outcome.measurement && outcome.measurement.mode === 'manual'
      ? 150
      : latencyOf(executor),
  afterJob: 0,
  decision: 47_000,
  approval: 95_000,
  manual: 185_000,
  pause: 130_000,
  abort: 20_000,
};

type Await<T extends EngineCommand['type']> = Extract<EngineCommand, { type: T }>;

export interface Choice {
  readonly optionId: string;
  readonly reason?: string;
  readonly value?: string;
  /** @defaultValue the starter */
  readonly by?: Actor;
}

export interface Policy {
  /** What a person picks; default the recommended option (else the first), with a reason when it needs one. */
  readonly decide?: (cmd: Await<'await_decision'>, state: RunState) => Choice | undefined;
  /** Approvals come from the approver unless this says to leave one open (the run then stops driving). */
  readonly approve?: (cmd: Await<'await_approval'>, state: RunState) => 'approve' | 'stop';
  /** A manual action: done (with a note; the world applies its effect), failed, or left open (stop driving). */
  readonly manual?: (cmd: Await<'await_manual'>, state: RunState) => { done: true; note?: string } | 'failed' | 'stop';
  /**
   * On a pause: retry (by the approver), skip or abort with a reason (by the starter), or stop driving. A skip that
   * needs a second person is confirmed by the approver, unless `alone`.
   */
  readonly pause?: (
    cmd: Await<'paused'>,
    state: RunState,
  ) => { retry: true } | { skip: string; alone?: true } | { abort: string } | 'stop';
  /** Called on every command before it is acted on; returning a reason aborts the run there (by the starter). */
  readonly abortWhen?: (cmd: EngineCommand, state: RunState) => string | undefined;
  /** Lets the world change before each round (a write arrives, a backup finishes). */
  readonly tick?: (world: World, state: RunState) => void;
  /** Before each executor call; may change the world or answer instead of it. */
  readonly intercept?: (call: ExecutorCall, stepId: string, state: RunState) => StepOutcome | undefined;
}

export interface Drive {
  readonly scenario: Scenario;
  readonly world: World;
  readonly crew: Crew;
  readonly pace: Pace;
  events: RunEvent[];
  state: RunState;
  now: Date;
  /** Engine options besides the crew's access (approval timeout, host action modes). */
  engine: Omit<EngineOptions, 'access'>;
  readonly commands: EngineCommand[];
  readonly jobs: string[];
}

export interface StartOptions {
  readonly crew: Crew;
  readonly pace: Pace;
  readonly params: Record<string, string>;
  readonly runId: string;
}

export function start(world: World, name: ScenarioName, opts: StartOptions): Drive {
  const { crew } = opts;
  const started = startRun(
    {
      runId: opts.runId,
      scenario: name,
      tenantId: 'default',
      startedBy: crew.starter,
      params: opts.params,
      ...(crew.channelId !== undefined ? { channelId: crew.channelId } : {}),
    },
    crew.access,
    T0,
  );
  if (!started.ok) throw new Error(started.refusal.message);
  return {
    scenario: getScenario(name),
    world,
    crew,
    pace: opts.pace,
    events: [...started.events],
    state: foldRun(started.events),
    now: T0,
    engine: {},
    commands: [],
    jobs: [],
  };
}

export function append(d: Drive, events: readonly RunEvent[]): void {
  for (const e of events) {
    RunEventSchema.parse(e);
    d.state = reduce(d.state, e);
    d.events.push(e);
  }
}

export function apply(d: Drive, result: CommandResult): void {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code}: ${result.refusal.message}`);
  append(d, result.events);
}

function later(d: Drive, ms: number): void {
  d.now = new Date(d.now.getTime() + ms);
}

/** Runs one job the way the job layer does: begin, call (a re-check first, when asked), record. */
export function runJob(d: Drive, jobId: string, policy: Policy = {}): void {
  const options = { ...d.engine, access: d.crew.access };
  const begin = beginStep(d.state, d.scenario, { jobId }, d.now, options);
  if (begin.kind === 'stale') throw new Error(`job ${jobId} is stale: ${begin.reason}`);
  append(d, begin.events);
  d.jobs.push(jobId);
  if (begin.kind === 'ask') return;
  const call = (c: ExecutorCall) => {
    const outcome = policy.intercept?.(c, begin.stepId, d.state) ?? d.world.respond(c);
    later(d, d.pace.call(c.executor, outcome));
    return outcome;
  };
  if (begin.kind === 'recheck') {
    // The call runs first: its time has passed when the outcome is recorded.
    const outcome = call(begin.recheck);
    const r = recordOutcome(d.state, d.scenario, { jobId, phase: 'recheck', outcome }, d.now, options);
    if (r.stale) throw new Error(`recheck of ${jobId} stale`);
    append(d, r.events);
    if (r.alreadyDone || r.deferred) return;
  }
  const outcome = call(begin.call);
  const r = recordOutcome(d.state, d.scenario, { jobId, phase: 'execute', outcome }, d.now, options);
  if (r.stale) throw new Error(`outcome of ${jobId} stale`);
  append(d, r.events);
}

function defaultChoice(cmd: Await<'await_decision'>): Choice | undefined {
  const o = cmd.options.find((x) => x.recommended) ?? cmd.options[0];
  return o ? { optionId: o.id, ...(o.needsReason ? { reason: 'drill' } : {}) } : undefined;
}

/** One engine round: decide, append, act. Returns the command acted on, or `stop` when driving ends here. */
export function step(d: Drive, policy: Policy = {}): EngineCommand | 'stop' {
  const { access, starter, approver } = d.crew;
  policy.tick?.(d.world, d.state);
  const out = decideNext(d.state, d.scenario, d.now, { ...d.engine, access });
  append(d, out.events);
  const cmd = out.command;
  d.commands.push(cmd);
  if (cmd.type === 'finished') return 'stop';
  const abort = policy.abortWhen?.(cmd, d.state);
  if (abort !== undefined) {
    later(d, d.pace.abort);
    apply(d, applyAbort(d.state, { by: starter, reason: abort }, access, d.now));
    return cmd;
  }
  switch (cmd.type) {
    case 'run_step':
    case 'check_again':
      if (Date.parse(cmd.at) > d.now.getTime()) d.now = new Date(cmd.at);
      runJob(d, cmd.jobId, policy);
      later(d, d.pace.afterJob);
      return cmd;
    case 'await_decision': {
      const choice = policy.decide?.(cmd, d.state) ?? defaultChoice(cmd);
      if (choice === undefined) throw new Error(`no option for ${cmd.stepId}`);
      later(d, d.pace.decision);
      const decision = {
        stepId: cmd.stepId,
        ...(cmd.item ? { itemId: cmd.item.id } : {}),
        optionId: choice.optionId,
        by: choice.by ?? starter,
        ...(choice.reason !== undefined ? { reason: choice.reason } : {}),
        ...(choice.value !== undefined ? { value: choice.value } : {}),
      };
      apply(d, applyDecision(d.state, d.scenario, decision, access, d.now));
      return cmd;
    }
    case 'await_approval': {
      if ((policy.approve?.(cmd, d.state) ?? 'approve') === 'stop') return 'stop';
      later(d, d.pace.approval);
      const approval = { stepId: cmd.stepId, by: approver, fingerprint: cmd.fingerprint };
      apply(d, applyApproval(d.state, d.scenario, approval, access, d.now));
      return cmd;
    }
    case 'await_manual': {
      const answer = policy.manual?.(cmd, d.state) ?? { done: true };
      if (answer === 'stop') return 'stop';
      later(d, d.pace.manual);
      if (answer !== 'failed') {
        const done = d.scenario.steps.find((s) => s.id === cmd.stepId);
        if (done && 'executor' in done && done.executor.startsWith('host.')) {
          d.world.applyHostEffect(done.executor.slice('host.'.length));
        }
      }
      const result =
        answer === 'failed'
          ? { stepId: cmd.stepId, by: starter, outcome: 'failed' as const }
          : {
              stepId: cmd.stepId,
              by: starter,
              outcome: 'done' as const,
              ...(answer.note !== undefined ? { note: answer.note } : {}),
            };
      apply(d, applyManualResult(d.state, d.scenario, result, access, d.now));
      return cmd;
    }
    case 'paused': {
      const action = policy.pause?.(cmd, d.state) ?? 'stop';
      if (action === 'stop') return 'stop';
      later(d, d.pace.pause);
      if ('retry' in action) apply(d, applyRetry(d.state, d.scenario, { by: approver }, access, d.now));
      else if ('skip' in action) {
        apply(d, applySkip(d.state, d.scenario, { by: starter, reason: action.skip }, access, d.now));
        // A safety check's skip waits for a second person: the approver confirms unless the policy says alone.
        if (d.state.skipRequest !== null && action.alone !== true) {
          const reason = `confirmed: ${action.skip}`;
          apply(d, applySkip(d.state, d.scenario, { by: approver, reason }, access, d.now));
        }
      } else apply(d, applyAbort(d.state, { by: starter, reason: action.abort }, access, d.now));
      return cmd;
    }
  }
}

/** Drives until the run finishes, the policy stops it, it pauses without a pause policy, or `limit` rounds pass. */
export function run(d: Drive, policy: Policy = {}, limit = 500): Drive {
  for (let i = 0; i < limit; i++) {
    if (step(d, policy) === 'stop') return d;
  }
  throw new Error(`run did not settle in ${limit} rounds; last command ${JSON.stringify(d.commands.at(-1))}`);
}

/** Every step's status, `pending` for those never reached. */
export function statuses(d: Drive): Record<string, string> {
  return Object.fromEntries(d.scenario.steps.map((s) => [s.id, d.state.steps[s.id]?.status ?? 'pending']));
}

export function eventsOf<T extends RunEvent['type']>(d: Drive, type: T): Extract<RunEvent, { type: T }>[] {
  return d.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
