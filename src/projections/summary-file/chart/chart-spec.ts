import type { ChartData } from './chart-data.js';

// The Vega-Lite specification of a run's chart: `pending_events` per projection above, healthz up or down below,
// on one time axis. A plain JSON value, so it crosses to the rendering worker as it is.

const WIDTH = 720;

/** A Vega-Lite spec (plain JSON) of the chart titled `title`. */
export function chartSpec(data: ChartData, title: string): Record<string, unknown> {
  const time = { field: 'at', type: 'temporal', title: 'time (UTC)', axis: { format: '%H:%M:%S' } };
  const scale = {
    type: 'utc',
    ...(data.from && data.to ? { domain: [Date.parse(data.from), Date.parse(data.to)] } : {}),
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start' },
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' } },
    vconcat: [
      {
        width: WIDTH,
        height: 220,
        title: 'pending_events per projection',
        data: { values: data.pending },
        mark: { type: 'line', point: true, interpolate: 'step-after' },
        encoding: {
          x: { ...time, scale },
          y: {
            field: 'pending',
            type: 'quantitative',
            title: 'pending events',
            scale: { domainMin: 0, nice: true },
            axis: { format: 'd', tickMinStep: 1 },
          },
          color: { field: 'projection', type: 'nominal', title: 'projection' },
        },
      },
      {
        width: WIDTH,
        height: 60,
        title: 'healthz answers 200',
        data: { values: data.healthz.map((h) => ({ at: h.at, up: h.up ? 1 : 0 })) },
        mark: { type: 'line', point: { color: '#2a7d2a' }, interpolate: 'step-after', color: '#2a7d2a' },
        encoding: {
          x: { ...time, scale },
          y: {
            field: 'up',
            type: 'quantitative',
            title: null,
            scale: { domain: [0, 1] },
            axis: { values: [0, 1], labelExpr: "datum.value === 1 ? 'up' : 'down'" },
          },
        },
      },
    ],
    resolve: { scale: { x: 'shared' } },
  };
}
