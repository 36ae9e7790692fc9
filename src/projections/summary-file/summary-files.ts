import type { Logger } from '../../logger.js';
import type { RunEvent, Scenario } from '../../runbook/index.js';
import { buildIncidentSummary, renderRunExport, renderSummaryMarkdown } from '../summary/index.js';
import { chartData, hasReadings } from './chart/chart-data.js';
import { chartSpec } from './chart/chart-spec.js';
import { type RenderChartOptions, renderChartPng } from './chart/render-chart.js';
import type { UploadFile } from './file-upload.js';

/** Draws a chart spec as PNG bytes; the worker-thread renderer unless a test swaps it. */
export type ChartRenderer = (spec: unknown, options?: RenderChartOptions) => Promise<Uint8Array>;

export interface SummaryFilesOptions {
  /** Told when the chart cannot be drawn (the other files go out without it). */
  readonly logger?: Logger;
  /** @defaultValue {@link renderChartPng} */
  readonly renderChart?: ChartRenderer;
}

/** `incident-<runId>.md`, `.json`, `.png`: the names the summary files have in Slack (run ids are safe in names). */
export function summaryFileName(runId: string, ext: 'md' | 'json' | 'png'): string {
  return `incident-${runId}.${ext}`;
}

/**
 * A finished run's files, in the order they are shared: the postmortem draft, the run export and, when the run
 * read anything to draw, its chart. A chart that cannot be drawn is logged with its code and left out.
 */
export async function summaryFiles(
  runId: string,
  events: readonly RunEvent[],
  scenario: Scenario,
  options: SummaryFilesOptions = {},
): Promise<UploadFile[]> {
  const summary = buildIncidentSummary(events, scenario);
  const files: UploadFile[] = [
    {
      filename: summaryFileName(runId, 'md'),
      title: `Postmortem draft: ${scenario.title} (${runId})`,
      content: renderSummaryMarkdown(summary),
    },
    { filename: summaryFileName(runId, 'json'), title: `Run export (${runId})`, content: renderRunExport(summary) },
  ];
  const data = chartData(events);
  if (!hasReadings(data)) return files;
  try {
    const png = await (options.renderChart ?? renderChartPng)(chartSpec(data, `${scenario.name} run ${runId}`));
    files.push({ filename: summaryFileName(runId, 'png'), title: `Run chart (${runId})`, content: png });
  } catch (err) {
    options.logger?.error(
      { err, runId, code: (err as { code?: string }).code },
      'the run chart could not be drawn; the summary goes out without it',
    );
  }
  return files;
}
