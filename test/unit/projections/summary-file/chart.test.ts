import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import { chartData, hasReadings } from '../../../../src/projections/summary-file/chart/chart-data.js';
import { chartSpec } from '../../../../src/projections/summary-file/chart/chart-spec.js';
import { renderChartPng } from '../../../../src/projections/summary-file/chart/render-chart.js';
import { pngSize } from '../../../helpers/png.js';
import { RUNS } from '../summary/runs.js';

describe('chart data', () => {
  it('reads pending_events per projection and healthz from every check of the run', () => {
    const data = chartData(RUNS.restart.recovered().events);
    const trace = data.pending.filter((p) => p.projection === 'trace_summary').map((p) => p.pending);
    // The catch-up wait saw 18 pending, then the checklist read 0.
    expect(trace).toContain(18);
    expect(trace.at(-1)).toBe(0);
    expect(new Set(data.pending.map((p) => p.projection))).toEqual(
      new Set(['context_graph', 'trace_summary', 'precedent_index']),
    );
    // healthz did not answer before the restart and answered after it.
    expect(data.healthz[0]?.up).toBe(false);
    expect(data.healthz.at(-1)?.up).toBe(true);
    const times = data.healthz.map((h) => Date.parse(h.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('has nothing to draw for a run that read nothing', () => {
    const run = RUNS.restart.recovered().events.filter((e) => e.type === 'run_started');
    expect(hasReadings(chartData(run))).toBe(false);
  });
});

describe('chart rendering', () => {
  it('draws a PNG of the run, off the main thread', async () => {
    const spec = chartSpec(chartData(RUNS.restart.recovered().events), 'restart run-restart');
    const png = await renderChartPng(spec);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(1000);
    expect(size.height).toBeGreaterThan(400);
    expect(png.byteLength).toBeGreaterThan(10_000);
  });

  it('names a spec it cannot draw with its code', async () => {
    await expect(renderChartPng({ mark: 'no-such-mark', data: { values: [] } })).rejects.toMatchObject({
      code: ErrorCode.ChartRenderFailed,
    });
  });

  it('gives up a drawing that takes too long', async () => {
    const spec = chartSpec(chartData(RUNS.restart.recovered().events), 'slow');
    await expect(renderChartPng(spec, { timeoutMs: 1 })).rejects.toMatchObject({ code: ErrorCode.ChartRenderFailed });
  });
});
