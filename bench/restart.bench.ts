import { performance } from 'node:perf_hooks';
import type { FaultName } from '../sim/index.js';
import { RateBudget } from '../src/executors/dg-http/index.js';
import { createProbePool } from '../src/executors/dg-sql/index.js';
import type { RecoveryRuntime } from '../src/jobs/index.js';
import type { RunEvent } from '../src/runbook/index.js';
import { checkExecutions, driveToEnd, imposedWaitMs, startFollowed } from './support/actors.js';
import { CallRecorder, type RecordedCall } from './support/call-recorder.js';
import { replayCalls } from './support/replay-calls.js';
import { type BenchReport, formatTable, ms, round, type SummaryRow, times, verdict } from './support/report.js';
import { median } from './support/stats.js';
import { runtimeFor, silentLogger, startBenchWorld } from './support/world.js';

/*
 * A whole `restart` run through the job layer (RunService, BullMQ step jobs, the Redis run log, the journal
 * write-behind, the executors) against a simulator that answers at once, next to a plain script that makes the
 * same calls one after another.
 *
 * - The simulator starts with the node down and projections behind, so the run restarts the runtime, waits for
 *   healthz, finds projections stuck, asks for a decision (catch_up), replays, reads and passes the checklist.
 * - Two actors answer through RunService as soon as the run asks: the starter decides, a second person would
 *   approve (this scenario asks for no approval).
 * - Waits the runbook imposes are scaled down (timeScale, every poll interval and backoff then floors at the job
 *   layer's 10 ms minimum) and the waits the run log scheduled are subtracted from the run's wall time.
 * - Every HTTP request to the simulator (API and control API, including the host action) and every SQL statement
 *   of the probe pool is recorded in issue order; the baseline replays exactly those, sequentially, with one undici
 *   agent and one pg connection, against the same simulator put back into the same faults.
 * - Runs and replays alternate; the first pair warms up and is not counted; medians are reported.
 */

/**
 * DecisionGraph allows 60 admin calls a minute per service account, and a run and its replay make five or six
 * each: at that limit more than five pairs a minute would wait for the budget, which is not the job layer's cost.
 * The simulator and the bot's client both get a hundred times the default limits here, so the medians can rest on
 * enough pairs.
 */
const BENCH_RATE_LIMITS = { read: 60_000, write: 30_000, admin: 6_000 };

export interface BenchRestartOptions {
  /** Timed run/replay pairs. @defaultValue 15 */
  runs?: number;
  /** @defaultValue ['node-down', 'projections-behind'] */
  faults?: FaultName[];
  /** Factor on every poll interval, deadline and backoff. @defaultValue 0.001 */
  timeScale?: number;
}

export interface RestartRunFigures {
  readonly wallMs: number;
  readonly imposedWaitMs: number;
  /** wallMs - imposedWaitMs */
  readonly netMs: number;
  readonly baselineMs: number;
  readonly httpCalls: number;
  readonly sqlCalls: number;
  readonly events: number;
  /** Step jobs the run executed: one per step attempt plus one per re-check of a polled step. */
  readonly jobs: number;
  /** (netMs - baselineMs) / jobs: what the job layer adds per step job. */
  readonly overheadPerJobMs: number;
  /** Calls whose status (or error) differed between the run and the replay. */
  readonly outcomeMismatches: number;
}

export interface RestartBenchDetail {
  readonly faults: FaultName[];
  readonly timeScale: number;
  readonly runs: RestartRunFigures[];
  readonly warmup: RestartRunFigures;
  readonly medianNetMs: number;
  readonly medianWallMs: number;
  readonly medianBaselineMs: number;
  readonly ratio: number;
  readonly hostActions: Record<string, number>;
  readonly executionProblems: string[];
}

/** Host actions counted between two readings of the simulator's counters, sorted by name. */
function countsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(after)
      .sort()
      .map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)] as const)
      .filter(([, n]) => n !== 0),
  );
}

function outcomeOf(call: RecordedCall): string {
  if (call.kind === 'sql') return 'ok';
  return call.status !== null ? String(call.status) : (call.error ?? 'none');
}

export async function benchRestart(opts: BenchRestartOptions = {}): Promise<BenchReport<RestartBenchDetail>> {
  const runs = opts.runs ?? 15;
  const faults = opts.faults ?? ['node-down', 'projections-behind'];
  const timeScale = opts.timeScale ?? 0.001;
  const world = await startBenchWorld(
    'restart',
    { faults, seed: { tracesPerTenant: 40 }, rateLimits: BENCH_RATE_LIMITS },
    timeScale,
  );
  const { sim } = world;
  const sqlPool = createProbePool({ connectionString: world.readerUrl, logger: silentLogger() });
  let runtime: RecoveryRuntime | undefined;
  const figures: RestartRunFigures[] = [];
  const problems: string[] = [];
  try {
    const recorder = new CallRecorder([sim.url, sim.controlUrl]);
    recorder.watchPool(sqlPool);
    runtime = await runtimeFor(world.recipe, {
      executorDeps: { sqlPool, rateBudget: new RateBudget({ limits: BENCH_RATE_LIMITS }) },
    });
    await runtime.startWorkers();
    const service = runtime.service;
    const hostBefore = { ...sim.hostActionCounts() };
    // A finished run leaves the node up and projections current, but a fault stays switched on until cleared.
    const rearm = async () => {
      await sim.clear();
      for (const f of faults) await sim.inject(f);
    };

    try {
      for (let i = 0; i <= runs; i++) {
        if (i > 0) await rearm();
        recorder.take();
        const hostAtRun = { ...sim.hostActionCounts() };
        const t0 = performance.now();
        const { run, stop } = await startFollowed(service, 'restart');
        const end = await driveToEnd(service, run);
        const wallMs = performance.now() - t0;
        const calls = recorder.take();
        await stop();
        if (end.outcome?.outcome !== 'recovered') {
          throw new Error(`the restart run ended ${end.outcome?.outcome}: ${end.outcome?.reason ?? ''}`);
        }
        const events: RunEvent[] = run.events;
        problems.push(...checkExecutions(events).problems.map((p) => `run ${i}: ${p}`));

        await rearm();
        const hostAtReplay = { ...sim.hostActionCounts() };
        const replay = await replayCalls(calls, {
          origins: new Map(),
          authorization: new Map([[sim.controlUrl, `Bearer ${sim.controlToken}`]]),
          databaseUrl: world.readerUrl,
        });
        recorder.take();
        // The script must have done what the run did on the host (a remembered idempotency key, a refused token
        // would leave the node down and make the baseline look cheap).
        const byRun = countsBetween(hostAtRun, hostAtReplay);
        const byReplay = countsBetween(hostAtReplay, sim.hostActionCounts());
        if (JSON.stringify(byRun) !== JSON.stringify(byReplay)) {
          problems.push(
            `run ${i}: host actions differ, run ${JSON.stringify(byRun)}, replay ${JSON.stringify(byReplay)}`,
          );
        }
        const recorded = calls.map(outcomeOf);
        const mismatches = recorded.filter((o, k) => o !== replay.outcomes[k]).length;
        const imposed = imposedWaitMs(events);
        const jobs = events.filter((e) => e.type === 'step_started' || e.type === 'step_waiting').length;
        figures.push({
          wallMs: round(wallMs, 1),
          imposedWaitMs: imposed,
          netMs: round(wallMs - imposed, 1),
          baselineMs: round(replay.ms, 1),
          httpCalls: replay.http,
          sqlCalls: replay.sql,
          events: events.length,
          jobs,
          overheadPerJobMs: round((wallMs - imposed - replay.ms) / jobs, 1),
          outcomeMismatches: mismatches,
        });
      }
    } finally {
      recorder.stop();
    }
    const hostActions = countsBetween(hostBefore, sim.hostActionCounts());
    const [warmup, ...timed] = figures as [RestartRunFigures, ...RestartRunFigures[]];
    const medianNetMs = median(timed.map((f) => f.netMs));
    const medianBaselineMs = median(timed.map((f) => f.baselineMs));
    const detail: RestartBenchDetail = {
      faults,
      timeScale,
      runs: timed,
      warmup,
      medianNetMs,
      medianWallMs: median(timed.map((f) => f.wallMs)),
      medianBaselineMs,
      ratio: medianNetMs / medianBaselineMs,
      hostActions,
      executionProblems: problems,
    };
    printRestart(detail);
    const rows: SummaryRow[] = [
      {
        bench: 'restart',
        metric: `restart run, ~${median(timed.map((f) => f.httpCalls))} HTTP + ${median(timed.map((f) => f.sqlCalls))} SQL calls`,
        measured: ms(medianNetMs),
        baseline: ms(medianBaselineMs),
        ratio: times(detail.ratio),
        target: '<= 1.5x',
        verdict: verdict(detail.ratio <= 1.5 && problems.length === 0),
      },
    ];
    return { name: 'restart', rows, detail };
  } finally {
    await runtime?.close().catch(() => undefined);
    await sqlPool.end().catch(() => undefined);
    await world.close();
  }
}

function printRestart(d: RestartBenchDetail): void {
  console.log(
    `restart run through the job layer vs a plain script replaying the same calls (faults: ${d.faults.join(', ')})`,
  );
  console.log(
    `runbook waits scaled by ${d.timeScale} (each poll/backoff then waits the job layer's 10 ms floor); the waits ` +
      'the run log scheduled are subtracted: "net" = wall - scheduled waits',
  );
  const header = [
    'run',
    'wall',
    'waits',
    'net',
    'baseline',
    'net/base',
    'http',
    'sql',
    'jobs',
    'extra/job',
    'mismatch',
  ];
  const row = (name: string, f: RestartRunFigures) => [
    name,
    ms(f.wallMs),
    ms(f.imposedWaitMs),
    ms(f.netMs),
    ms(f.baselineMs),
    times(f.netMs / f.baselineMs),
    String(f.httpCalls),
    String(f.sqlCalls),
    String(f.jobs),
    ms(f.overheadPerJobMs),
    String(f.outcomeMismatches),
  ];
  console.log(formatTable(header, [row('warm-up', d.warmup), ...d.runs.map((f, i) => row(String(i + 1), f))]));
  console.log(
    '"mismatch": calls answered differently in the replay (the trace read gets 409 when the script outruns the simulator\'s asynchronous catch_up)',
  );
  console.log(
    `median net ${ms(d.medianNetMs)} vs baseline ${ms(d.medianBaselineMs)}: ${times(d.ratio)} (target <= 1.5x); ` +
      `host actions ${JSON.stringify(d.hostActions)}; ${d.executionProblems.length} problems`,
  );
  for (const p of d.executionProblems.slice(0, 10)) console.log(`  problem: ${p}`);
}
