import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { chartData } from '../src/projections/summary-file/chart/chart-data.js';
import { chartSpec } from '../src/projections/summary-file/chart/chart-spec.js';
import { renderChartPng } from '../src/projections/summary-file/chart/render-chart.js';
import { RUNS } from '../test/unit/projections/summary/runs.js';
import { type BenchReport, formatTable, ms, type SummaryRow, times, verdict } from './support/report.js';

/*
 * What drawing a run's chart costs the bot's event loop: the main thread's busy time (event-loop utilisation,
 * active ms) and its longest stall while the chart of an event-log run is drawn the way the bot draws it (a
 * worker thread), next to the same drawing done inline on the main thread (the baseline: what the bot would spend
 * without the worker). Rounds alternate; medians are kept.
 */

export interface ChartBenchDetail {
  readonly rounds: number;
  readonly workerBusyMs: number;
  readonly inlineBusyMs: number;
  readonly workerStallMs: number;
  readonly inlineStallMs: number;
  readonly workerWallMs: number;
  readonly ratio: number;
}

async function inline(spec: unknown): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(spec as Parameters<typeof compile>[0]).spec), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  return new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
}

interface Cost {
  readonly busyMs: number;
  readonly stallMs: number;
  readonly wallMs: number;
}

/** The main thread's busy time and longest stall (ms) while `work` runs, and how long it took. */
async function cost(work: () => Promise<unknown>): Promise<Cost> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  const busyMs = performance.eventLoopUtilization(elu).active;
  // One more turn so a stall at the very end is recorded.
  await new Promise((resolve) => setTimeout(resolve, 20));
  h.disable();
  return { busyMs, stallMs: h.max / 1e6, wallMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export async function benchChart(rounds = 5): Promise<BenchReport<ChartBenchDetail>> {
  const spec = chartSpec(chartData(RUNS['event-log'].recovered().events), 'event-log run');
  await renderChartPng(spec);
  await inline(spec);
  const worker: Cost[] = [];
  const main: Cost[] = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? [worker, main] : [main, worker];
    for (const into of order) into.push(await cost(() => (into === worker ? renderChartPng(spec) : inline(spec))));
  }
  const workerBusyMs = median(worker.map((r) => r.busyMs));
  const inlineBusyMs = median(main.map((r) => r.busyMs));
  const workerStallMs = median(worker.map((r) => r.stallMs));
  const inlineStallMs = median(main.map((r) => r.stallMs));
  const ratio = workerBusyMs / inlineBusyMs;
  const rows: SummaryRow[] = [
    {
      bench: 'chart',
      metric: "main thread's busy time while a chart is drawn",
      measured: ms(workerBusyMs),
      baseline: ms(inlineBusyMs),
      ratio: times(ratio),
      target: '<= 0.25x (drawn inline)',
      verdict: verdict(ratio <= 0.25),
    },
  ];
  const detail = {
    rounds,
    workerBusyMs,
    inlineBusyMs,
    workerStallMs,
    inlineStallMs,
    workerWallMs: median(worker.map((r) => r.wallMs)),
    ratio,
  };
  console.log(
    formatTable(
      ['drawn', 'main thread busy', 'longest stall', 'wall'],
      [
        ['worker thread', ms(workerBusyMs), ms(workerStallMs), ms(detail.workerWallMs)],
        ['inline', ms(inlineBusyMs), ms(inlineStallMs), ms(median(main.map((r) => r.wallMs)))],
      ],
    ),
  );
  return { name: 'chart', rows, detail };
}
