import { performance } from 'node:perf_hooks';
import { coveredMs, type FaultName } from '../sim/index.js';
import type { RecoveryRuntime } from '../src/jobs/index.js';
import { type RunEvent, SCENARIO_NAMES, type ScenarioName } from '../src/runbook/index.js';
import { checkExecutions, driveToEnd, startFollowed } from './support/actors.js';
import { type BenchReport, formatTable, ms, round, type SummaryRow, verdict } from './support/report.js';
import { runtimeFor, startBenchWorld } from './support/world.js';

/*
 * Time to recovered: every scenario from `/dg recover` (RunService.start) to the run's `recovered` outcome, at time
 * scale 1 (the runbook's real poll intervals and deadlines) against a simulator that boots and replays as slowly as
 * a real node, with DecisionGraph's default rate limits and actors answering at once.
 *
 * The floor is what the simulator itself imposed while the run went on (boots, replay runs and the host actions'
 * own work such as a restore, overlapping ones counted once; it records each as it happens); people answer at
 * once, so they add nothing. The excess is the
 * bot's: polls that look too late, readings it did not need, calls made one after another.
 */

/** Each scenario's incident, as the demo stages it. */
const INCIDENTS: { readonly [K in ScenarioName]: { faults: FaultName[]; allowRebuild: boolean } } = {
  restart: { faults: ['node-down', 'projections-behind'], allowRebuild: false },
  postgres: { faults: ['postgres-down'], allowRebuild: false },
  projections: { faults: ['projections-behind', 'orphaned-run'], allowRebuild: false },
  'event-log': { faults: ['hash-drift'], allowRebuild: true },
  upgrade: { faults: ['failed-upgrade'], allowRebuild: true },
};

export interface BenchMttrOptions {
  /** How long a (re)start of the node takes. @defaultValue 1200 */
  bootDelayMs?: number;
  /** How long every replay run stays `running` before its first batch. @defaultValue 1700 */
  replayDurationMs?: number;
  /** @defaultValue every scenario */
  scenarios?: readonly ScenarioName[];
  /** Excess allowed per scenario. @defaultValue 2000 */
  targetExcessMs?: number;
}

export interface MttrFigures {
  readonly scenario: ScenarioName;
  readonly faults: FaultName[];
  /** From the start request to the `recovered` outcome. */
  readonly recoveredMs: number;
  /** Boots, replay runs and host actions the simulator served during the run, overlaps counted once. */
  readonly floorMs: number;
  readonly bootMs: number;
  readonly replayMs: number;
  readonly hostMs: number;
  readonly excessMs: number;
  readonly stepJobs: number;
  readonly problems: string[];
}

export interface MttrDetail {
  readonly bootDelayMs: number;
  readonly replayDurationMs: number;
  readonly targetExcessMs: number;
  readonly scenarios: MttrFigures[];
}

async function measure(scenario: ScenarioName, bootDelayMs: number, replayDurationMs: number): Promise<MttrFigures> {
  const incident = INCIDENTS[scenario];
  const world = await startBenchWorld(
    `mttr${scenario}`,
    {
      allowRebuild: incident.allowRebuild,
      bootDelayMs,
      replayDurationMs,
      seed: { tracesPerTenant: 120 },
    },
    1,
  );
  const { sim } = world;
  let runtime: RecoveryRuntime | undefined;
  try {
    // After the world is set up: its read-only role needs the database that `postgres-down` closes.
    for (const f of incident.faults) await sim.inject(f);
    runtime = await runtimeFor(world.recipe);
    await runtime.startWorkers();
    // A person resumes writes on the host when the runbook asks; the control API does it here.
    const resumeWrites = async (stepId: string) => {
      if (stepId !== 'resume_writes') return;
      const res = await fetch(`${sim.controlUrl}/host/resume-writes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.controlToken}` },
      });
      if (!res.ok) throw new Error(`resume-writes answered ${res.status}`);
    };
    const from = Date.now();
    const t0 = performance.now();
    const { run, stop } = await startFollowed(runtime.service, scenario);
    const end = await driveToEnd(runtime.service, run, 300_000, resumeWrites);
    const recoveredMs = performance.now() - t0;
    const to = from + recoveredMs;
    await stop();
    if (end.outcome?.outcome !== 'recovered') {
      throw new Error(`the ${scenario} run ended ${end.outcome?.outcome}: ${end.outcome?.reason ?? ''}`);
    }
    const waits = sim.imposedWaits();
    const floorMs = coveredMs(waits, from, to);
    const events = run.events;
    if (process.env.MTTR_TRACE === '1') printTrace(scenario, events);
    return {
      scenario,
      faults: incident.faults,
      recoveredMs: round(recoveredMs, 0),
      floorMs: round(floorMs, 0),
      bootMs: round(
        coveredMs(
          waits.filter((w) => w.kind === 'boot'),
          from,
          to,
        ),
        0,
      ),
      replayMs: round(
        coveredMs(
          waits.filter((w) => w.kind === 'replay'),
          from,
          to,
        ),
        0,
      ),
      hostMs: round(
        coveredMs(
          waits.filter((w) => w.kind === 'host'),
          from,
          to,
        ),
        0,
      ),
      excessMs: round(recoveredMs - floorMs, 0),
      stepJobs: events.filter((e) => e.type === 'step_started' || e.type === 'step_waiting').length,
      problems: checkExecutions(events).problems,
    };
  } finally {
    await runtime?.close().catch(() => undefined);
    await world.close();
  }
}

export async function benchMttr(opts: BenchMttrOptions = {}): Promise<BenchReport<MttrDetail>> {
  const bootDelayMs = opts.bootDelayMs ?? 1200;
  const replayDurationMs = opts.replayDurationMs ?? 1700;
  const targetExcessMs = opts.targetExcessMs ?? 2000;
  const figures: MttrFigures[] = [];
  for (const scenario of opts.scenarios ?? SCENARIO_NAMES) {
    const f = await measure(scenario, bootDelayMs, replayDurationMs);
    console.log(`${scenario}: recovered in ${ms(f.recoveredMs)}, floor ${ms(f.floorMs)}`);
    figures.push(f);
  }
  const detail: MttrDetail = { bootDelayMs, replayDurationMs, targetExcessMs, scenarios: figures };
  printMttr(detail);
  const rows: SummaryRow[] = figures.map((f) => ({
    bench: 'mttr',
    metric: `${f.scenario}: time to recovered`,
    measured: ms(f.recoveredMs),
    baseline: `floor ${ms(f.floorMs)}`,
    ratio: `+${ms(f.excessMs)}`,
    target: `excess <= ${ms(targetExcessMs)}`,
    verdict: verdict(f.excessMs <= targetExcessMs && f.problems.length === 0),
  }));
  return { name: 'mttr', rows, detail };
}

function printMttr(d: MttrDetail): void {
  console.log(
    `time to recovered at time scale 1; the simulator boots in ${ms(d.bootDelayMs)} and holds every replay run ` +
      `${ms(d.replayDurationMs)} before its first batch; actors answer at once; default rate limits`,
  );
  console.log(
    'floor = boots + replay runs + host actions the simulator served during the run (overlaps once); ' +
      'excess = run - floor',
  );
  const header = [
    'scenario',
    'faults',
    'recovered',
    'floor',
    'boot',
    'replay',
    'host',
    'excess',
    'step jobs',
    'problems',
  ];
  const rows = d.scenarios.map((f) => [
    f.scenario,
    f.faults.join('+'),
    ms(f.recoveredMs),
    ms(f.floorMs),
    ms(f.bootMs),
    ms(f.replayMs),
    ms(f.hostMs),
    ms(f.excessMs),
    String(f.stepJobs),
    String(f.problems.length),
  ]);
  console.log(formatTable(header, rows));
  for (const f of d.scenarios) for (const p of f.problems.slice(0, 5)) console.log(`  ${f.scenario}: ${p}`);
}

/** `MTTR_TRACE=1`: each run's events with their times, to see where a run spent its time. */
function printTrace(scenario: ScenarioName, events: readonly RunEvent[]): void {
  const start = Date.parse(events[0]?.at ?? '');
  for (const e of events) {
    const step = 'stepId' in e ? e.stepId : '';
    console.log(`  ${scenario} +${Date.parse(e.at) - start} ms ${e.type} ${step}`);
  }
}
