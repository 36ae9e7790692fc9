import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScenarios, type RunEvent } from '../../runbook/index.js';
import { buildIncidentSummary, renderRunExport, renderSummaryMarkdown } from '../summary/index.js';

/** `dg-recovery-<runId>.md` (or `.json` for the run export); run ids are already safe in file names. */
export function summaryFileName(runId: string, ext: 'md' | 'json' = 'md'): string {
  return `dg-recovery-${runId}.${ext}`;
}

/** The incident summary of a run as Markdown, from its events alone. */
export function summaryMarkdown(events: readonly RunEvent[]): string {
  return renderSummaryMarkdown(buildIncidentSummary(events, loadScenarios()));
}

/**
 * Writes the postmortem draft next to the operator (or into `dir`), with the run export beside it as Slack gets
 * it, and returns the draft's absolute path.
 */
export async function writeSummaryFile(runId: string, events: readonly RunEvent[], dir = '.'): Promise<string> {
  const summary = buildIncidentSummary(events, loadScenarios());
  const path = resolve(join(dir, summaryFileName(runId)));
  await writeFile(path, renderSummaryMarkdown(summary), 'utf8');
  await writeFile(resolve(join(dir, summaryFileName(runId, 'json'))), renderRunExport(summary), 'utf8');
  return path;
}
