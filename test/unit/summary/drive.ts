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
  foldRun,
  getScenario,
  type RunEvent,
  RunEventSchema,
  type RunState,
  recordOutcome,
  reduce,
  type Scenario,
  type ScenarioName,
  startRun,
} from '../../../src/runbook/index.js';
import { latencyOf, type World } from './world.js';

// Drives a run through the engine the way the job layer and the people in the thread do (start, begin a step,
// call the world, record, decide; buttons for decisions, approvals, Done, Retry, Skip, Abort), on a clock that
// moves as a real incident would: executor calls take their time, polls wait their delay, people take a while.

export const ANA: Actor = { id: 'U04ANA', name: 'Ana Ops', via: 'slack' };
export const BO: Actor = { id: 'U07BO', name: 'Bo On-Call', via: 'slack' };
export const ACCESS: AccessPolicy = { operators: ['U04ANA', 'U07BO'], approvers: ['U07BO'], twoPersonRule: true };
export const T0 = new Date('2026-03-07T12:00:00.000Z');

type Await<T extends EngineCommand['type']> = Extract<EngineCommand, { type: T }>;

export interface Choice {
  readonly optionId: string;
  readonly reason?: string;
  readonly value?: string;
  readonly by?: Actor;
}

export interface Script {
  /** Per decision step (and item): what the person picks; default the recommended option. */
  readonly decide?: (cmd: Await<'await_decision'>, state: RunState) => Choice | undefined;
  /** Approvals come from Bo unless this says to leave one open (the run then stops driving). */
  readonly approve?: (cmd: Await<'await_approval'>, state: RunState) => 'approve' | 'stop';
  /** A manual action: done (with a note), failed, or left open (stop driving). */
  readonly manual?: (cmd: Await<'await_manual'>, state: RunState) => { done: true; note?: string } | 'stop' | 'failed';
  /** On a pause: retry (by Bo), skip with a reason (by Ana), abort, or stop driving. */
  readonly pause?: (
    cmd: Await<'paused'>,
    state: RunState,
  ) => { retry: true } | { skip: string } | { abort: string } | 'stop';
  /** Called before every engine round; returning a reason aborts the run there (by Ana). */
  readonly abortWhen?: (cmd: EngineCommand, state: RunState) => string | undefined;
  /** Lets the world change between rounds (a write arrives, a backup finishes). */
  readonly tick?: (world: World, state: RunState) => void;
}

export interface Driven {
  readonly scenario: Scenario;
  readonly events: RunEvent[];
  readonly state: RunState;
}

export function drive(
  world: World,
  name: ScenarioName,
  script: Script = {},
  params: Record<string, string> = { traceId: 'trace-7f3a' },
  runId = `run-${name}`,
): Driven {
  const scenario = getScenario(name);
  let now = T0;
  const started = startRun(
    { runId, scenario: name, tenantId: 'default', startedBy: ANA, params, channelId: 'C0INCIDENT' },
    ACCESS,
    now,
  );
  if (!started.ok) throw new Error(started.refusal.message);
  const events: RunEvent[] = [];
  let state: RunState = foldRun(started.events);
  events.push(...started.events);
  const append = (list: readonly RunEvent[]) => {
    for (const e of list) {
      RunEventSchema.parse(e);
      state = reduce(state, e);
      events.push(e);
    }
  };
  const apply = (r: CommandResult) => {
    if (!r.ok) throw new Error(`refused: ${r.refusal.code}: ${r.refusal.message}`);
    append(r.events);
  };
  const later = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };

  for (let round = 0; round < 500; round++) {
    script.tick?.(world, state);
    const out = decideNext(state, scenario, now, { access: ACCESS });
    append(out.events);
    const cmd = out.command;
    if (cmd.type === 'finished') return { scenario, events, state };
    const abort = script.abortWhen?.(cmd, state);
    if (abort !== undefined) {
      later(20_000);
      apply(applyAbort(state, { by: ANA, reason: abort }, ACCESS, now));
      continue;
    }
    switch (cmd.type) {
      case 'run_step':
      case 'check_again': {
        if (Date.parse(cmd.at) > now.getTime()) now = new Date(cmd.at);
        const begin = beginStep(state, scenario, { jobId: cmd.jobId }, now, { access: ACCESS });
        if (begin.kind === 'stale') throw new Error(`stale job ${cmd.jobId}: ${begin.reason}`);
        append(begin.events);
        const call = (c: typeof begin.call) => {
          const outcome = world.respond(c);
          // A host action configured as manual returns at once: the person's time is counted when they click Done.
          const manual =
            outcome.kind === 'measured' && 'mode' in outcome.measurement && outcome.measurement.mode === 'manual';
          later(manual ? 150 : latencyOf(c.executor));
          return outcome;
        };
        if (begin.kind === 'recheck') {
          const r = recordOutcome(
            state,
            scenario,
            { jobId: cmd.jobId, phase: 'recheck', outcome: call(begin.recheck) },
            now,
            { access: ACCESS },
          );
          append(r.events);
          if (r.alreadyDone) break;
        }
        const r = recordOutcome(
          state,
          scenario,
          { jobId: cmd.jobId, phase: 'execute', outcome: call(begin.call) },
          now,
          { access: ACCESS },
        );
        if (r.stale) throw new Error(`outcome of ${cmd.jobId} stale`);
        append(r.events);
        break;
      }
      case 'await_decision': {
        const recommended = cmd.options.find((o) => o.recommended) ?? cmd.options[0];
        const choice = script.decide?.(cmd, state) ?? (recommended ? { optionId: recommended.id } : undefined);
        if (choice === undefined) throw new Error(`no option for ${cmd.stepId}`);
        later(47_000);
        apply(
          applyDecision(
            state,
            scenario,
            {
              stepId: cmd.stepId,
              ...(cmd.item ? { itemId: cmd.item.id } : {}),
              optionId: choice.optionId,
              by: choice.by ?? ANA,
              ...(choice.reason !== undefined ? { reason: choice.reason } : {}),
              ...(choice.value !== undefined ? { value: choice.value } : {}),
            },
            ACCESS,
            now,
          ),
        );
        break;
      }
      case 'await_approval': {
        if ((script.approve?.(cmd, state) ?? 'approve') === 'stop') return { scenario, events, state };
        later(95_000);
        apply(
          applyApproval(state, scenario, { stepId: cmd.stepId, by: BO, fingerprint: cmd.fingerprint }, ACCESS, now),
        );
        break;
      }
      case 'await_manual': {
        const answer = script.manual?.(cmd, state) ?? { done: true };
        if (answer === 'stop') return { scenario, events, state };
        later(185_000);
        if (answer === 'failed') {
          apply(applyManualResult(state, scenario, { stepId: cmd.stepId, by: ANA, outcome: 'failed' }, ACCESS, now));
          break;
        }
        const step = scenario.steps.find((s) => s.id === cmd.stepId);
        if (step && 'executor' in step && step.executor.startsWith('host.'))
          world.applyHostEffect(step.executor.slice(5));
        apply(
          applyManualResult(
            state,
            scenario,
            {
              stepId: cmd.stepId,
              by: ANA,
              outcome: 'done',
              ...(answer.note !== undefined ? { note: answer.note } : {}),
            },
            ACCESS,
            now,
          ),
        );
        break;
      }
      case 'paused': {
        const action = script.pause?.(cmd, state) ?? 'stop';
        if (action === 'stop') return { scenario, events, state };
        later(130_000);
        if ('retry' in action) apply(applyRetry(state, scenario, { by: BO }, ACCESS, now));
        else if ('skip' in action) apply(applySkip(state, scenario, { by: ANA, reason: action.skip }, ACCESS, now));
        else apply(applyAbort(state, { by: ANA, reason: action.abort }, ACCESS, now));
        break;
      }
    }
  }
  throw new Error(`run ${runId} did not settle`);
}
