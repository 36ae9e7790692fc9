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
} from '../../../src/runbook/index.js';
import type { World } from './world.js';

export const STARTER: Actor = { id: 'U012ABC', name: 'ana', via: 'slack' };
export const APPROVER: Actor = { id: 'U034DEF', name: 'bo', via: 'slack' };
export const ACCESS: AccessPolicy = {
  operators: ['U012ABC', 'U034DEF', 'S0OPS'],
  approvers: ['U034DEF'],
  twoPersonRule: true,
};
export const T0 = new Date('2026-03-07T12:00:00.000Z');

type AwaitDecision = Extract<EngineCommand, { type: 'await_decision' }>;
type Paused = Extract<EngineCommand, { type: 'paused' }>;

export interface Policy {
  /** Picks an option; default: the recommended one (else the first). */
  decide?: (cmd: AwaitDecision, state: RunState) => { optionId: string; reason?: string; value?: string } | undefined;
  /** What to do on a pause; default: stop driving. */
  onPause?: (
    cmd: Paused,
    state: RunState,
  ) => { action: 'retry' } | { action: 'skip'; reason: string } | { action: 'abort' } | 'stop';
  /** Manual actions: default done (and the world applies the effect). */
  manual?: (stepId: string, state: RunState) => 'done' | 'failed';
  /** Before each executor call; may change the world or answer instead of it. */
  intercept?: (call: ExecutorCall, stepId: string, state: RunState) => StepOutcome | undefined;
}

export interface Drive {
  readonly scenario: Scenario;
  readonly world: World;
  events: RunEvent[];
  state: RunState;
  now: Date;
  readonly commands: EngineCommand[];
  readonly jobs: string[];
}

export function apply(d: Drive, result: CommandResult): void {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code} ${result.refusal.message}`);
  append(d, result.events);
}

export function append(d: Drive, events: readonly RunEvent[]): void {
  for (const e of events) {
    // Every event the engine writes must pass the schema the log is read back with.
    RunEventSchema.parse(e);
    d.state = reduce(d.state, e);
    d.events.push(e);
  }
}

export function start(
  world: World,
  name: ScenarioName,
  params: Record<string, string> = { traceId: 'trace-demo' },
  runId = 'run-1',
): Drive {
  const started = startRun({ runId, scenario: name, tenantId: 'default', startedBy: STARTER, params }, ACCESS, T0);
  if (!started.ok) throw new Error(started.refusal.message);
  return {
    scenario: getScenario(name),
    world,
    events: [...started.events],
    state: foldRun(started.events),
    now: T0,
    commands: [],
    jobs: [],
  };
}

function executorOfStep(d: Drive, stepId: string): string | undefined {
  const step = d.scenario.steps.find((s) => s.id === stepId);
  return step && 'executor' in step ? step.executor : undefined;
}

/** Runs one job the way the job layer does: begin, call, record. */
export function runJob(d: Drive, jobId: string, policy: Policy = {}): void {
  const begin = beginStep(d.state, d.scenario, { jobId }, d.now, { access: ACCESS });
  if (begin.kind === 'stale') throw new Error(`job ${jobId} is stale: ${begin.reason}`);
  append(d, begin.events);
  d.jobs.push(jobId);
  const call = (c: ExecutorCall) => policy.intercept?.(c, begin.stepId, d.state) ?? d.world.respond(c);
  if (begin.kind === 'recheck') {
    const r = recordOutcome(d.state, d.scenario, { jobId, phase: 'recheck', outcome: call(begin.recheck) }, d.now, {
      access: ACCESS,
    });
    if (r.stale) throw new Error(`recheck of ${jobId} stale`);
    append(d, r.events);
    if (r.alreadyDone) return;
  }
  const r = recordOutcome(d.state, d.scenario, { jobId, phase: 'execute', outcome: call(begin.call) }, d.now, {
    access: ACCESS,
  });
  if (r.stale) throw new Error(`outcome of ${jobId} stale`);
  append(d, r.events);
}

/** One engine round: decide, append, act. Returns the command acted on. */
export function step(d: Drive, policy: Policy = {}): EngineCommand | 'stop' {
  const out = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
  append(d, out.events);
  const cmd = out.command;
  d.commands.push(cmd);
  switch (cmd.type) {
    case 'run_step':
    case 'check_again':
      if (Date.parse(cmd.at) > d.now.getTime()) d.now = new Date(cmd.at);
      runJob(d, cmd.jobId, policy);
      d.now = new Date(d.now.getTime() + 25);
      return cmd;
    case 'await_decision': {
      const choice =
        policy.decide?.(cmd, d.state) ??
        (() => {
          const o = cmd.options.find((x) => x.recommended) ?? cmd.options[0];
          return o ? { optionId: o.id, ...(o.needsReason ? { reason: 'drill' } : {}) } : undefined;
        })();
      if (choice === undefined) throw new Error(`no option for ${cmd.stepId}`);
      apply(
        d,
        applyDecision(
          d.state,
          d.scenario,
          { stepId: cmd.stepId, ...(cmd.item ? { itemId: cmd.item.id } : {}), by: STARTER, ...choice },
          ACCESS,
          d.now,
        ),
      );
      return cmd;
    }
    case 'await_approval':
      apply(
        d,
        applyApproval(
          d.state,
          d.scenario,
          { stepId: cmd.stepId, by: APPROVER, fingerprint: cmd.fingerprint },
          ACCESS,
          d.now,
        ),
      );
      return cmd;
    case 'await_manual': {
      const outcome = policy.manual?.(cmd.stepId, d.state) ?? 'done';
      if (outcome === 'done') {
        const executor = executorOfStep(d, cmd.stepId);
        if (executor?.startsWith('host.')) d.world.applyHostEffect(executor.slice(5));
      }
      apply(d, applyManualResult(d.state, d.scenario, { stepId: cmd.stepId, by: STARTER, outcome }, ACCESS, d.now));
      return cmd;
    }
    case 'paused': {
      const action = policy.onPause?.(cmd, d.state) ?? 'stop';
      if (action === 'stop') return 'stop';
      if (action.action === 'retry') apply(d, applyRetry(d.state, d.scenario, { by: APPROVER }, ACCESS, d.now));
      else if (action.action === 'skip')
        apply(d, applySkip(d.state, d.scenario, { by: STARTER, reason: action.reason }, ACCESS, d.now));
      else apply(d, applyAbort(d.state, { by: STARTER, reason: 'drill over' }, ACCESS, d.now));
      return cmd;
    }
    case 'finished':
      return 'stop';
  }
}

/** Drives until the run finishes, pauses (without a pause policy) or `limit` rounds pass. */
export function run(d: Drive, policy: Policy = {}, limit = 400): Drive {
  for (let i = 0; i < limit; i++) {
    if (step(d, policy) === 'stop') return d;
  }
  throw new Error(`run did not settle in ${limit} rounds; last command ${JSON.stringify(d.commands.at(-1))}`);
}

export function statuses(d: Drive): Record<string, string> {
  return Object.fromEntries(d.scenario.steps.map((s) => [s.id, d.state.steps[s.id]?.status ?? 'pending']));
}

export function eventsOf<T extends RunEvent['type']>(d: Drive, type: T): Extract<RunEvent, { type: T }>[] {
  return d.events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);
}
