import { performance } from 'node:perf_hooks';
import {
  type AccessPolicy,
  type Actor,
  applyApproval,
  applyDecision,
  applyManualResult,
  beginStep,
  type CommandResult,
  decideNext,
  type ExecutorCall,
  foldRun,
  getScenario,
  type RunEvent,
  type RunState,
  recordOutcome,
  reduce,
  type Scenario,
  type ScenarioName,
  type StepOutcome,
  startRun,
} from '../src/runbook/index.js';
import { World } from '../test/helpers/engine-world.js';
import { type BenchReport, formatTable, ms, round, type SummaryRow, times, verdict } from './support/report.js';
import { type Distribution, distribution } from './support/stats.js';

/*
 * The engine's own cost per step, with no I/O: what a step job computes around its executor call. One timed step
 * is: fold the whole run log (a job loads the run), decideNext, beginStep, fold its events, recordOutcome with a
 * canned measurement, fold those events. Person commands (decisions, approvals, Done) are applied between steps
 * and not timed.
 *
 * The canned measurements come from one walk of each scenario against the tests' fake DecisionGraph; the
 * timed walks replay them in the same order, so the engine sees the same answers every iteration.
 *
 * Baseline: for every timed step, one JSON.stringify + JSON.parse round trip of the run log as it stands at that
 * step (the cheapest thing a job that reads the log at all could do).
 */

export interface BenchEngineOptions {
  /** Timed walks of every case. @defaultValue 100 */
  iterations?: number;
  /** Untimed walks first, so the JIT has settled. @defaultValue 20 */
  warmup?: number;
}

export interface EngineScenarioFigures {
  readonly label: string;
  readonly scenario: ScenarioName;
  readonly stepsPerWalk: number;
  readonly eventsPerWalk: number;
  readonly engine: Distribution;
  readonly baseline: Distribution;
}

export interface EngineBenchDetail {
  readonly iterations: number;
  /** Every timed step of every scenario, ms. */
  readonly engine: Distribution;
  /** JSON round trips of the run log, one per timed step, ms. */
  readonly baseline: Distribution;
  readonly ratioP50: number;
  readonly ratioP95: number;
  readonly scenarios: EngineScenarioFigures[];
}

const STARTER: Actor = { id: 'U0STARTER', name: 'ana', via: 'slack' };
const APPROVER: Actor = { id: 'U0APPROVER', name: 'bo', via: 'slack' };
const ACCESS: AccessPolicy = { operators: [STARTER.id, APPROVER.id], approvers: [APPROVER.id], twoPersonRule: true };
const T0 = Date.parse('2026-03-07T12:00:00.000Z');

interface Case {
  readonly label: string;
  readonly scenario: ScenarioName;
  readonly params: Record<string, string>;
  /** The fault each scenario starts from, in the fake world. */
  readonly world: () => World;
}

const CASES: readonly Case[] = [
  {
    label: 'restart',
    scenario: 'restart',
    params: { traceId: 'trace-demo' },
    world: () => {
      const w = new World();
      w.runtimeUp = false;
      w.cursors.trace_summary = 2150;
      return w;
    },
  },
  {
    label: 'postgres',
    scenario: 'postgres',
    params: { traceId: 'trace-demo' },
    world: () => {
      const w = new World();
      w.postgresUp = false;
      w.connected = false;
      return w;
    },
  },
  {
    label: 'projections',
    scenario: 'projections',
    params: { traceId: 'trace-demo' },
    world: () => {
      const w = new World();
      w.cursors.trace_summary = 2150;
      w.failures.trace_summary = 1;
      w.failureRows = [
        { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'ev-9', log_seq: 2151, count: 3 },
      ];
      return w;
    },
  },
  {
    label: 'event-log',
    scenario: 'event-log',
    params: { traceId: 'trace-demo' },
    world: () => {
      const w = new World();
      w.integrity = { payload_hash_drift: 2, trace_seq_step: 1 };
      return w;
    },
  },
  {
    label: 'upgrade',
    scenario: 'upgrade',
    params: { traceId: 'trace-demo', previousRelease: 'v1.4.2' },
    world: () => {
      const w = new World();
      w.smokeFailing = ['projection_health', 'trace_read'];
      return w;
    },
  },
  {
    // A long run: the replay needs 100 polls, so later steps fold a log of a few hundred events.
    label: 'restart, 100 polls',
    scenario: 'restart',
    params: { traceId: 'trace-demo' },
    world: () => {
      const w = new World();
      w.runtimeUp = false;
      w.cursors.trace_summary = 2150;
      w.replayPollsToFinish = 100;
      return w;
    },
  },
];

interface Walk {
  readonly events: RunEvent[];
  readonly state: RunState;
  /** Per timed step: engine ms and the run log's size (events) at that step. */
  readonly steps: { ms: number; logLength: number }[];
}

function applied(result: CommandResult): RunEvent[] {
  if (!result.ok) throw new Error(`command refused: ${result.refusal.code} ${result.refusal.message}`);
  return result.events;
}

/**
 * Walks one run to its end the way the job layer does, answering executor calls with `answer`. Decisions take
 * the recommended option (else the first), approvals come from a second person, manual actions are done.
 */
function walk(c: Case, scenario: Scenario, answer: (call: ExecutorCall) => StepOutcome, world?: World): Walk {
  const started = startRun(
    { runId: 'run-bench01', scenario: c.scenario, tenantId: 'default', startedBy: STARTER, params: c.params },
    ACCESS,
    new Date(T0),
  );
  if (!started.ok) throw new Error(started.refusal.message);
  const events: RunEvent[] = [...started.events];
  let state = foldRun(events);
  let now = new Date(T0);
  const steps: Walk['steps'] = [];
  const append = (more: readonly RunEvent[]) => {
    for (const e of more) {
      state = reduce(state, e);
      events.push(e);
    }
  };
  for (let round = 0; round < 400; round++) {
    const t0 = performance.now();
    state = foldRun(events);
    const out = decideNext(state, scenario, now, { access: ACCESS });
    append(out.events);
    const cmd = out.command;
    if (cmd.type === 'run_step' || cmd.type === 'check_again') {
      if (Date.parse(cmd.at) > now.getTime()) now = new Date(cmd.at);
      const begin = beginStep(state, scenario, { jobId: cmd.jobId }, now, { access: ACCESS });
      if (begin.kind === 'stale') throw new Error(`job ${cmd.jobId} is stale: ${begin.reason}`);
      if (begin.kind === 'ask') throw new Error(`job ${cmd.jobId} asks a person about an interrupted step`);
      append(begin.events);
      let done = false;
      if (begin.kind === 'recheck') {
        const r = recordOutcome(
          state,
          scenario,
          { jobId: cmd.jobId, phase: 'recheck', outcome: answer(begin.recheck) },
          now,
          { access: ACCESS },
        );
        append(r.events);
        done = r.alreadyDone === true;
      }
      if (!done) {
        const r = recordOutcome(
          state,
          scenario,
          { jobId: cmd.jobId, phase: 'execute', outcome: answer(begin.call) },
          now,
          {
            access: ACCESS,
          },
        );
        if (r.stale) throw new Error(`outcome of ${cmd.jobId} stale`);
        append(r.events);
      }
      steps.push({ ms: performance.now() - t0, logLength: events.length });
      now = new Date(now.getTime() + 25);
      continue;
    }
    switch (cmd.type) {
      case 'finished':
        return { events, state, steps };
      case 'await_decision': {
        const option = cmd.options.find((o) => o.recommended) ?? cmd.options[0];
        if (!option) throw new Error(`no option for ${cmd.stepId}`);
        append(
          applied(
            applyDecision(
              state,
              scenario,
              {
                stepId: cmd.stepId,
                ...(cmd.item ? { itemId: cmd.item.id } : {}),
                optionId: option.id,
                by: STARTER,
                ...(option.needsReason ? { reason: 'drill: recommended choice' } : {}),
              },
              ACCESS,
              now,
            ),
          ),
        );
        break;
      }
      case 'await_approval':
        append(
          applied(
            applyApproval(
              state,
              scenario,
              { stepId: cmd.stepId, by: APPROVER, fingerprint: cmd.fingerprint },
              ACCESS,
              now,
            ),
          ),
        );
        break;
      case 'await_manual': {
        const step = scenario.steps.find((s) => s.id === cmd.stepId);
        if (world && step && 'executor' in step && step.executor.startsWith('host.')) {
          world.applyHostEffect(step.executor.slice('host.'.length));
        }
        append(
          applied(
            applyManualResult(state, scenario, { stepId: cmd.stepId, by: STARTER, outcome: 'done' }, ACCESS, now),
          ),
        );
        break;
      }
      case 'paused':
        throw new Error(`${c.scenario} paused: ${cmd.reason}`);
    }
  }
  throw new Error(`${c.scenario} did not finish`);
}

/** Records the fake world's answers once, so timed walks replay them without the world's own cost. */
function cannedAnswers(c: Case, scenario: Scenario): { outcomes: StepOutcome[]; reference: Walk } {
  const world = c.world();
  const outcomes: StepOutcome[] = [];
  const reference = walk(
    c,
    scenario,
    (call) => {
      const o = world.respond(call);
      outcomes.push(o);
      return o;
    },
    world,
  );
  if (reference.state.outcome?.outcome !== 'recovered') {
    throw new Error(`${c.scenario} walk ended ${reference.state.outcome?.outcome ?? reference.state.status}`);
  }
  return { outcomes, reference };
}

function replay(c: Case, scenario: Scenario, outcomes: readonly StepOutcome[]): Walk {
  let next = 0;
  return walk(c, scenario, () => {
    const o = outcomes[next++];
    if (!o) throw new Error(`${c.scenario}: more calls than recorded`);
    return o;
  });
}

/** One JSON round trip of the log's first `length` events per timed step, ms. */
function baselineSamples(events: readonly RunEvent[], steps: Walk['steps']): number[] {
  const out: number[] = [];
  for (const s of steps) {
    const slice = events.slice(0, s.logLength);
    const t0 = performance.now();
    const back = JSON.parse(JSON.stringify(slice)) as unknown[];
    out.push(performance.now() - t0);
    if (back.length !== s.logLength) throw new Error('round trip lost events');
  }
  return out;
}

export async function benchEngine(opts: BenchEngineOptions = {}): Promise<BenchReport<EngineBenchDetail>> {
  const iterations = opts.iterations ?? 100;
  const warmup = opts.warmup ?? 20;
  const all: number[] = [];
  const allBase: number[] = [];
  const scenarios: EngineScenarioFigures[] = [];
  for (const c of CASES) {
    const scenario = getScenario(c.scenario);
    const { outcomes, reference } = cannedAnswers(c, scenario);
    for (let i = 0; i < warmup; i++) {
      replay(c, scenario, outcomes);
      baselineSamples(reference.events, reference.steps);
    }
    const engine: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const w = replay(c, scenario, outcomes);
      if (w.events.length !== reference.events.length) throw new Error(`${c.scenario}: replay diverged`);
      for (const s of w.steps) engine.push(s.ms);
      base.push(...baselineSamples(w.events, w.steps));
      // Yield now and then: the bench shares the process with nothing, but keeps timers honest.
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    all.push(...engine);
    allBase.push(...base);
    scenarios.push({
      label: c.label,
      scenario: c.scenario,
      stepsPerWalk: reference.steps.length,
      eventsPerWalk: reference.events.length,
      engine: distribution(engine),
      baseline: distribution(base),
    });
  }
  const engine = distribution(all);
  const baseline = distribution(allBase);
  const detail: EngineBenchDetail = {
    iterations,
    engine,
    baseline,
    ratioP50: engine.p50 / baseline.p50,
    ratioP95: engine.p95 / baseline.p95,
    scenarios,
  };
  printEngine(detail);
  const rows: SummaryRow[] = [
    {
      bench: 'engine',
      metric: 'per step p50',
      measured: ms(engine.p50),
      baseline: ms(baseline.p50),
      ratio: times(detail.ratioP50),
      target: 'p50 < 5 ms',
      verdict: verdict(engine.p50 < 5),
    },
    {
      bench: 'engine',
      metric: 'per step p95',
      measured: ms(engine.p95),
      baseline: ms(baseline.p95),
      ratio: times(detail.ratioP95),
      target: 'reported',
      verdict: 'PASS',
    },
  ];
  return { name: 'engine', rows, detail };
}

function printEngine(d: EngineBenchDetail): void {
  const header = ['scenario', 'steps', 'events', 'p50', 'p95', 'max', 'json p50', 'json p95', 'p50 ratio'];
  const rows = d.scenarios.map((s) => [
    s.label,
    String(s.stepsPerWalk),
    String(s.eventsPerWalk),
    ms(s.engine.p50),
    ms(s.engine.p95),
    ms(s.engine.max),
    ms(s.baseline.p50),
    ms(s.baseline.p95),
    times(s.engine.p50 / s.baseline.p50),
  ]);
  rows.push([
    'all',
    String(round(d.engine.count / d.iterations, 0)),
    '',
    ms(d.engine.p50),
    ms(d.engine.p95),
    ms(d.engine.max),
    ms(d.baseline.p50),
    ms(d.baseline.p95),
    times(d.ratioP50),
  ]);
  console.log(
    `engine: foldRun + decideNext + beginStep + recordOutcome + fold per step, ${d.iterations} walks per scenario\n` +
      'baseline: one JSON.stringify + JSON.parse of the run log as it stands at each step',
  );
  console.log(formatTable(header, rows));
  console.log(`per step p50 ${ms(d.engine.p50)} (target < 5 ms), ${round(d.ratioP50, 2)}x the JSON round trip`);
}
