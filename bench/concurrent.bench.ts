import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { RecoveryRuntime, RunService } from '../src/jobs/index.js';
import type { RunEvent } from '../src/runbook/index.js';
import type { FromWorker, ToWorker } from './concurrent-worker.js';
import { checkExecutions, driveToEnd, imposedWaitMs, startFollowed } from './support/actors.js';
import { type BenchReport, formatTable, mb, ms, round, type SummaryRow, times, verdict } from './support/report.js';
import { type Distribution, distribution } from './support/stats.js';
import { finishedTraceOf, putTenantsBehind } from './support/tenants.js';
import { type BenchWorld, runtimeFor, startBenchWorld } from './support/world.js';

/*
 * 100 `projections` runs at once, one per tenant of one simulator (each tenant seeded small, each with
 * projections behind), carried by two step-worker processes that share Redis with the service process that
 * starts and steers the runs. Baseline: one run alone on the same set-up, after a warm-up run.
 *
 * Checked: every run ends `recovered`; in every run log each step_started has exactly one outcome (no executor
 * ran twice for one attempt) and no poll is recorded twice. Measured: wall time of each run, the batch's wall
 * time per run, the scheduled waits, and the peak RSS of each worker process (sampled every 50 ms).
 */

export interface BenchConcurrentOptions {
  /** @defaultValue 100 */
  runs?: number;
  /** Traces seeded per tenant. @defaultValue 6 */
  tracesPerTenant?: number;
  /**
   * Factor on the runbook's poll intervals, deadlines and backoffs. Deadlines shrink with it, so it must leave
   * room for a loaded machine. @defaultValue 0.05
   */
  timeScale?: number;
  /** Step jobs each worker process runs at once. @defaultValue the step worker's default (8) */
  concurrency?: number;
}

interface PhaseFigures {
  readonly runs: number;
  readonly recovered: number;
  /** Start of the first run to the end of the last, ms. */
  readonly wallMs: number;
  /** wallMs / runs */
  readonly perRunMs: number;
  /** Each run's own start-to-finish time. */
  readonly runMs: Distribution;
  /** Scheduled waits of a run, median. */
  readonly imposedWaitMs: number;
  readonly stepsStarted: number;
  readonly executionProblems: string[];
  /** Peak RSS of each worker process during the phase, MB. */
  readonly workerPeakRssMb: number[];
  /** Requests each worker process sent to DecisionGraph during the phase. */
  readonly workerRequests: number[];
  /** Peak RSS of this process (the simulator, the service runtime, the followers), MB. */
  readonly benchProcessPeakRssMb: number;
}

export interface ConcurrentBenchDetail {
  readonly workers: string;
  readonly timeScale: number;
  readonly single: PhaseFigures;
  readonly concurrent: PhaseFigures;
  /** concurrent.perRunMs / single.perRunMs */
  readonly perRunRatio: number;
  /** concurrent.runMs.p50 / single.runMs.p50 */
  readonly latencyRatio: number;
  readonly maxRssKb: number[];
}

const WORKER_ENTRY = fileURLToPath(new URL('./concurrent-worker.ts', import.meta.url));

class WorkerProcess {
  private readonly inbox: FromWorker[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly child: ChildProcess;

  constructor(readonly name: string) {
    this.child = fork(WORKER_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromWorker) => {
      this.inbox.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(message: ToWorker): void {
    this.child.send(message);
  }

  async next<T extends FromWorker['type']>(type: T, timeoutMs = 60_000): Promise<Extract<FromWorker, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const error = this.inbox.find((m) => m.type === 'error');
      if (error && error.type === 'error') throw new Error(`worker ${this.name}: ${error.message}`);
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Extract<FromWorker, { type: T }>;
      if (this.child.exitCode !== null) throw new Error(`worker ${this.name} exited ${this.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`worker ${this.name} did not answer ${type}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async mark(): Promise<{ peakRss: number; requests: number }> {
    this.send({ type: 'mark' });
    return this.next('peak');
  }

  async stop(): Promise<number> {
    if (this.child.exitCode !== null) return 0;
    this.send({ type: 'stop' });
    const stopped = await this.next('stopped', 30_000).catch(() => undefined);
    if (this.child.exitCode === null) await Promise.race([once(this.child, 'exit'), delay(5000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    return stopped?.maxRssKb ?? 0;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface RunResult {
  readonly ms: number;
  readonly events: RunEvent[];
  readonly outcome: string;
}

async function oneRun(service: RunService, tenantId: string, traceId: string | undefined): Promise<RunResult> {
  const t0 = performance.now();
  const { run, stop } = await startFollowed(service, 'projections', { tenantId, ...(traceId ? { traceId } : {}) });
  try {
    const end = await driveToEnd(service, run, 180_000);
    return { ms: performance.now() - t0, events: run.events, outcome: end.outcome?.outcome ?? end.status };
  } finally {
    await stop();
  }
}

async function phase(
  service: RunService,
  workers: readonly WorkerProcess[],
  tenants: readonly string[],
  traces: ReadonlyMap<string, string>,
): Promise<PhaseFigures> {
  await Promise.all(workers.map((w) => w.mark()));
  let ownPeak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    ownPeak = Math.max(ownPeak, process.memoryUsage.rss());
  }, 50);
  const t0 = performance.now();
  const results = await Promise.all(tenants.map((t) => oneRun(service, t, traces.get(t)))).finally(() =>
    clearInterval(sampler),
  );
  const wallMs = performance.now() - t0;
  const marks = await Promise.all(workers.map((w) => w.mark()));
  const problems: string[] = [];
  let stepsStarted = 0;
  for (const [i, r] of results.entries()) {
    const check = checkExecutions(r.events);
    stepsStarted += check.started;
    problems.push(...check.problems.map((p) => `${tenants[i]}: ${p}`));
  }
  const waits = results.map((r) => imposedWaitMs(r.events)).sort((a, b) => a - b);
  return {
    runs: results.length,
    recovered: results.filter((r) => r.outcome === 'recovered').length,
    wallMs: round(wallMs, 1),
    perRunMs: round(wallMs / results.length, 1),
    runMs: distribution(results.map((r) => round(r.ms, 1))),
    imposedWaitMs: waits[Math.floor(waits.length / 2)] ?? 0,
    stepsStarted,
    executionProblems: problems,
    workerPeakRssMb: marks.map((m) => mb(m.peakRss)),
    workerRequests: marks.map((m) => m.requests),
    benchProcessPeakRssMb: mb(ownPeak),
  };
}

export async function benchConcurrent(opts: BenchConcurrentOptions = {}): Promise<BenchReport<ConcurrentBenchDetail>> {
  const runs = opts.runs ?? 100;
  const timeScale = opts.timeScale ?? 0.05;
  const batch = Array.from({ length: runs }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
  const tenants = ['default', 'warmup', ...batch];
  let world: BenchWorld | undefined;
  let service: RecoveryRuntime | undefined;
  const workers: WorkerProcess[] = [];
  try {
    const seed = { tenants, tracesPerTenant: opts.tracesPerTenant ?? 6 };
    world = await startBenchWorld('concurrent', { seed }, timeScale, { knownWorkflow: false });
    await putTenantsBehind(world.sim, tenants);
    const traces = await finishedTraceOf(world.sim.databaseUrl, tenants);
    service = await runtimeFor(world.recipe, { role: 'service' });
    for (const name of ['worker-1', 'worker-2']) {
      const w = new WorkerProcess(name);
      workers.push(w);
      w.send({ type: 'start', recipe: world.recipe, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) });
    }
    await Promise.all(workers.map((w) => w.next('ready')));

    await phase(service.service, workers, ['warmup'], traces);
    const single = await phase(service.service, workers, ['default'], traces);
    const concurrent = await phase(service.service, workers, batch, traces);
    const maxRssKb: number[] = [];
    for (const w of workers) maxRssKb.push(await w.stop());
    const detail: ConcurrentBenchDetail = {
      workers:
        'two worker processes (child_process.fork), each the job layer with role "workers"; runs started and steered by a third, the service process',
      timeScale,
      single,
      concurrent,
      perRunRatio: concurrent.perRunMs / single.perRunMs,
      latencyRatio: concurrent.runMs.p50 / single.runMs.p50,
      maxRssKb,
    };
    printConcurrent(detail);
    const ok = concurrent.recovered === concurrent.runs && concurrent.executionProblems.length === 0;
    const rows: SummaryRow[] = [
      {
        bench: 'concurrent',
        metric: `${runs} projections runs: recovered, no step twice`,
        measured: `${concurrent.recovered}/${concurrent.runs}, ${concurrent.executionProblems.length} problems`,
        baseline: `${single.recovered}/${single.runs}`,
        ratio: '-',
        target: `all ${runs} recovered, 0 problems`,
        verdict: verdict(ok),
      },
      {
        bench: 'concurrent',
        metric: 'wall time per run (batch / runs)',
        measured: ms(concurrent.perRunMs),
        baseline: ms(single.perRunMs),
        ratio: times(detail.perRunRatio),
        target: 'reported',
        verdict: 'PASS',
      },
      {
        bench: 'concurrent',
        metric: 'peak RSS per worker process',
        measured: `${Math.max(...concurrent.workerPeakRssMb)} MB`,
        baseline: `${Math.max(...single.workerPeakRssMb)} MB`,
        ratio: times(Math.max(...concurrent.workerPeakRssMb) / Math.max(...single.workerPeakRssMb)),
        target: 'reported',
        verdict: 'PASS',
      },
    ];
    return { name: 'concurrent', rows, detail };
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined);
    await service?.close().catch(() => undefined);
    await world?.close();
  }
}

function printConcurrent(d: ConcurrentBenchDetail): void {
  console.log(`concurrent projections runs; ${d.workers}`);
  console.log(`runbook waits scaled by ${d.timeScale} (deadlines too, so they stay well above the load's delays)`);
  const header = [
    'phase',
    'runs',
    'recovered',
    'wall',
    'per run',
    'run p50',
    'run p95',
    'waits p50',
    'steps',
    'problems',
    'worker peak RSS MB',
    'requests',
  ];
  const row = (name: string, p: PhaseFigures) => [
    name,
    String(p.runs),
    String(p.recovered),
    ms(p.wallMs),
    ms(p.perRunMs),
    ms(p.runMs.p50),
    ms(p.runMs.p95),
    ms(p.imposedWaitMs),
    String(p.stepsStarted),
    String(p.executionProblems.length),
    p.workerPeakRssMb.join(' / '),
    p.workerRequests.join(' / '),
  ];
  console.log(formatTable(header, [row('1 run', d.single), row(`${d.concurrent.runs} runs`, d.concurrent)]));
  for (const p of d.concurrent.executionProblems.slice(0, 10)) console.log(`  problem: ${p}`);
  console.log(
    `per-run wall time ${times(d.perRunRatio)} the single run's; a run's own duration p50 ${times(d.latencyRatio)}; ` +
      `max RSS of the worker processes over their life ${d.maxRssKb.map((k) => `${mb(k * 1024)} MB`).join(' / ')}; ` +
      `bench process (simulator + service + followers) peak ${d.concurrent.benchProcessPeakRssMb} MB`,
  );
}
