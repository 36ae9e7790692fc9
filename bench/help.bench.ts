import { execFileSync, spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain JavaScript module of the launcher, without types
import { freshBuild } from '../bin/compiled.js';
import { type BenchReport, formatTable, ms, round, type SummaryRow, times, verdict } from './support/report.js';

/*
 * How long `dg-recovery help` takes from the shell, built (what `npm start` and an installed bot run), next to
 * `node -e 0` (the baseline: Node starting and doing nothing). Rounds alternate; medians are kept. The target is
 * the absolute time, < 300 ms on an idle machine, so the load average is reported beside it.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = resolve(ROOT, 'bin', 'dg-recovery.js');

export interface HelpBenchDetail {
  readonly rounds: number;
  readonly helpMs: number;
  readonly nodeMs: number;
  readonly ratio: number;
  readonly loadAverage1m: number;
}

function timed(args: readonly string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${String(r.stderr).slice(0, 200)}`);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function benchHelp(rounds = 15): Promise<BenchReport<HelpBenchDetail>> {
  // Measured built: without a current build the launcher falls back to tsx, which is not what is shipped.
  if (!freshBuild('src/cli/main.js')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  timed([CLI, 'help']);
  const help: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [help, node] : [node, help];
    for (const into of order) into.push(timed(into === help ? [CLI, 'help'] : ['-e', '0']));
  }
  const helpMs = median(help);
  const nodeMs = median(node);
  const ratio = helpMs / nodeMs;
  const loadAverage1m = round(loadavg()[0] ?? 0);
  const rows: SummaryRow[] = [
    {
      bench: 'help',
      metric: `dg-recovery help, built (load ${loadAverage1m})`,
      measured: ms(helpMs),
      baseline: ms(nodeMs),
      ratio: times(ratio),
      target: '< 300 ms',
      verdict: verdict(helpMs < 300),
    },
  ];
  console.log(
    formatTable(
      ['command', 'median', 'fastest'],
      [
        ['dg-recovery help', ms(helpMs), ms(Math.min(...help))],
        ['node -e 0', ms(nodeMs), ms(Math.min(...node))],
      ],
    ),
  );
  return { name: 'help', rows, detail: { rounds, helpMs, nodeMs, ratio, loadAverage1m } };
}
