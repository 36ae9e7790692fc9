import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  BENCH_NAMES,
  type BenchName,
  type BenchReport,
  formatTable,
  ms,
  notAvailable,
  round,
  type SummaryRow,
  times,
  verdict,
} from './support/report.js';

/*
 * `npm run bench [-- name...]`: runs the benchmarks in sequence, prints one table per benchmark and a summary,
 * and writes everything to bench/results/latest.json. A MISS is a finding, not a failure: the exit code is
 * non-zero only when a benchmark crashed.
 */

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

/** Maps the integrity scan's own result onto summary rows. */
async function integrity(): Promise<BenchReport<unknown>> {
  const { benchIntegrityScan } = await import('./integrity-scan.bench.js');
  const r = await benchIntegrityScan();
  const largest = r.sizes.at(-1);
  const smallest = r.sizes[0];
  const rows: SummaryRow[] = [
    {
      bench: 'integrity',
      metric: `scan of ${largest?.events.toLocaleString('en-US') ?? '?'} events`,
      measured: ms(largest?.scanMs ?? 0),
      baseline: ms(largest?.copyMs ?? 0),
      ratio: times(r.worstRatio),
      target: '<= 2x (worst size)',
      verdict: verdict(r.worstRatio <= 2 && r.sizes.every((s) => s.findings === 0)),
    },
    {
      bench: 'integrity',
      metric: `peak RSS ${smallest?.events.toLocaleString('en-US') ?? '?'} vs ${largest?.events.toLocaleString('en-US') ?? '?'}`,
      measured: `${largest?.peakRssMb ?? '?'} MB`,
      baseline: `${smallest?.peakRssMb ?? '?'} MB`,
      ratio: `${r.rssGrowthMb >= 0 ? '+' : ''}${r.rssGrowthMb} MB`,
      target: '< 50 MB apart',
      verdict: verdict(Math.abs(r.rssGrowthMb) < 50),
    },
  ];
  return { name: 'integrity', rows, detail: r };
}

const BENCHES: Record<BenchName, () => Promise<BenchReport<unknown>>> = {
  integrity,
  engine: async () => (await import('./engine.bench.js')).benchEngine(),
  restart: async () => (await import('./restart.bench.js')).benchRestart(),
  concurrent: async () => (await import('./concurrent.bench.js')).benchConcurrent(),
  ack: async () => (await import('./ack.bench.js')).benchAck(),
  chart: async () => (await import('./chart.bench.js')).benchChart(),
  mttr: async () => (await import('./mttr.bench.js')).benchMttr(),
  help: async () => (await import('./help.bench.js')).benchHelp(),
};

interface Entry {
  readonly name: BenchName;
  readonly durationMs: number;
  readonly rows: SummaryRow[];
  readonly detail: unknown;
  readonly notAvailable?: string;
  readonly error?: string;
}

function parseNames(args: readonly string[]): BenchName[] {
  const wanted = args.filter((a) => a !== '--');
  if (wanted.length === 0) return [...BENCH_NAMES];
  const unknown = wanted.filter((a) => !(BENCH_NAMES as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown benchmark: ${unknown.join(', ')}; choose from ${BENCH_NAMES.join(', ')}`);
    process.exit(2);
  }
  // The order of a full run, whatever order they were named in.
  return BENCH_NAMES.filter((n) => wanted.includes(n));
}

/** A benchmark whose own module cannot be loaded because code it measures does not exist yet. */
function missingModule(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') return undefined;
  const m = /Cannot find module '([^']+)'/.exec(String(e.message));
  const path = m?.[1] ?? 'a module';
  return `${path.replace(/^.*\/(src|bench|sim|test)\//, '$1/')} does not exist`;
}

async function runOne(name: BenchName): Promise<Entry> {
  console.log(`\n== ${name} ==`);
  const started = performance.now();
  try {
    const report = await BENCHES[name]();
    return {
      name,
      durationMs: Math.round(performance.now() - started),
      rows: report.rows,
      detail: report.detail,
      ...(report.notAvailable !== undefined ? { notAvailable: report.notAvailable } : {}),
    };
  } catch (err) {
    const missing = missingModule(err);
    if (missing !== undefined) {
      const report = notAvailable(name, name, '-', missing);
      console.log(`not available: ${missing}`);
      return {
        name,
        durationMs: Math.round(performance.now() - started),
        rows: report.rows,
        detail: null,
        notAvailable: missing,
      };
    }
    console.error(err);
    const message = err instanceof Error ? err.message : String(err);
    return {
      name,
      durationMs: Math.round(performance.now() - started),
      rows: [
        {
          bench: name,
          metric: name,
          measured: `crashed: ${message.slice(0, 80)}`,
          baseline: '-',
          ratio: '-',
          target: '-',
          verdict: 'CRASH',
        },
      ],
      detail: null,
      error: message,
    };
  }
}

async function main(): Promise<void> {
  const names = parseNames(process.argv.slice(2));
  const startedAt = new Date();
  const loadBefore = round(loadavg()[0] ?? 0, 2);
  const entries: Entry[] = [];
  for (const name of names) entries.push(await runOne(name));
  const loadAfter = round(loadavg()[0] ?? 0, 2);

  console.log('\n== summary ==');
  console.log(
    `node ${process.version}, ${cpus().length} cores, load average ${loadBefore} -> ${loadAfter}; ratios compare ` +
      'with a baseline measured in the same run',
  );
  const rows = entries.flatMap((e) => e.rows);
  console.log(
    formatTable(
      ['bench', 'metric', 'measured', 'baseline', 'ratio', 'target', 'result'],
      rows.map((r) => [r.bench, r.metric, r.measured, r.baseline, r.ratio, r.target, r.verdict]),
      [0, 1, 5, 6],
    ),
  );
  const crashed = entries.filter((e) => e.error !== undefined);
  console.log(
    `${entries.length} benchmarks in ${ms(entries.reduce((a, e) => a + e.durationMs, 0))}; ` +
      `${rows.filter((r) => r.verdict === 'MISS').length} MISS, ${rows.filter((r) => r.verdict === 'N/A').length} not available, ` +
      `${crashed.length} crashed`,
  );

  await mkdir(dirname(RESULTS), { recursive: true });
  await writeFile(
    RESULTS,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        node: process.version,
        cores: cpus().length,
        loadAverage: [loadBefore, loadAfter],
        summary: rows,
        benches: entries,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results written to ${RESULTS.replace(`${process.cwd()}/`, '')}`);
  // Open handles a benchmark forgot (a Redis connection, a timer) must not keep the report from ending.
  process.exit(crashed.length > 0 ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
