import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DgError, ErrorCode } from '../../../errors.js';

/** The run's chart could not be drawn (or took longer than allowed); the summary goes out without it. */
export class ChartRenderFailedError extends DgError {
  readonly code = ErrorCode.ChartRenderFailed;
  constructor(detail: string, cause?: unknown) {
    super(`the run's chart could not be drawn: ${detail}`, { cause });
  }
}

// Drawing takes a few hundred milliseconds of CPU, so it runs in a worker thread and the bot's event loop stays
// free. The worker's code is inline (no separate file to ship in the build); it loads the libraries by URL.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const vega = await import(workerData.modules.vega);
  const vegaLite = await import(workerData.modules.vegaLite);
  const resvg = await import(workerData.modules.resvg);
  const Resvg = resvg.Resvg ?? resvg.default.Resvg;
  const view = new vega.View(vega.parse(vegaLite.compile(workerData.spec).spec), { renderer: 'none' });
  const svg = await view.toSVG(workerData.scale);
  view.finalize();
  const png = new Resvg(svg, { background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  parentPort.postMessage({ png });
})().catch((err) => parentPort.postMessage({ error: String((err && err.stack) || err) }));
`;

let modules: Record<string, string> | undefined;

function moduleUrls(): Record<string, string> {
  if (modules) return modules;
  const require = createRequire(import.meta.url);
  const url = (name: string) => pathToFileURL(require.resolve(name)).href;
  modules = { vega: url('vega'), vegaLite: url('vega-lite'), resvg: url('@resvg/resvg-js') };
  return modules;
}

export interface RenderChartOptions {
  /** Past this the worker is stopped and the chart given up. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /** Pixels per unit of the spec's size (2 for sharp text on a phone). @defaultValue 2 */
  readonly scale?: number;
}

/** Draws a Vega-Lite spec as a PNG in a worker thread; every failure is a {@link ChartRenderFailedError}. */
export async function renderChartPng(spec: unknown, options: RenderChartOptions = {}): Promise<Buffer> {
  let urls: Record<string, string>;
  try {
    urls = moduleUrls();
  } catch (err) {
    throw new ChartRenderFailedError('the chart libraries are not installed', err);
  }
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { spec, modules: urls, scale: options.scale ?? 2 },
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = await new Promise<{ png?: Uint8Array; error?: string }>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new ChartRenderFailedError(`no chart after ${options.timeoutMs ?? 30_000} ms`)),
        options.timeoutMs ?? 30_000,
      );
      worker.once('message', resolve);
      worker.once('error', (err) => reject(new ChartRenderFailedError(err.message, err)));
      worker.once('exit', (code) => reject(new ChartRenderFailedError(`the drawing worker stopped (exit ${code})`)));
    });
    if (reply.png === undefined) throw new ChartRenderFailedError(reply.error ?? 'no image');
    return Buffer.from(reply.png);
  } finally {
    clearTimeout(timer);
    await worker.terminate();
  }
}
