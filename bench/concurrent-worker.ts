import diagnostics from 'node:diagnostics_channel';
import type { RecoveryRuntime } from '../src/jobs/index.js';
import { type RuntimeRecipe, runtimeFor } from './support/world.js';

/*
 * A step-worker process for the concurrent benchmark: builds the job layer with role `workers` from the recipe
 * the parent sends over IPC, runs step jobs until told to stop, and reports its memory and how many requests it
 * sent to DecisionGraph.
 */

export type ToWorker =
  | { readonly type: 'start'; readonly recipe: RuntimeRecipe; readonly concurrency?: number }
  /** Report the peak RSS since the last mark and start a new one. */
  | { readonly type: 'mark' }
  | { readonly type: 'stop' };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'peak'; readonly peakRss: number; readonly requests: number }
  | { readonly type: 'stopped'; readonly maxRssKb: number }
  | { readonly type: 'error'; readonly message: string };

function send(message: FromWorker): void {
  process.send?.(message);
}

let runtime: RecoveryRuntime | undefined;
let peakRss = 0;
let requests = 0;
let origin = '';

const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
const timer = setInterval(sample, 50);

diagnostics.subscribe('undici:request:create', (message) => {
  const o = (message as { request: { origin?: unknown } }).request.origin;
  if (String(o).startsWith(origin)) requests++;
});

process.on('message', (message: ToWorker) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        origin = new URL(message.recipe.env.DG_BASE_URL ?? 'http://invalid').origin;
        runtime = await runtimeFor(message.recipe, {
          role: 'workers',
          ...(message.concurrency !== undefined ? { worker: { concurrency: message.concurrency } } : {}),
        });
        await runtime.startWorkers();
        send({ type: 'ready' });
      } else if (message.type === 'mark') {
        sample();
        send({ type: 'peak', peakRss, requests });
        peakRss = process.memoryUsage.rss();
        requests = 0;
      } else if (message.type === 'stop') {
        clearInterval(timer);
        await runtime?.close();
        send({ type: 'stopped', maxRssKb: process.resourceUsage().maxRSS });
        process.disconnect();
      }
    } catch (err) {
      send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
  })();
});
