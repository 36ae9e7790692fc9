import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadScenarios, type RunEvent } from '../../runbook/index.js';
import { buildIncidentSummary, renderSummaryMarkdown } from '../summary/index.js';

/** `dg-recovery-<runId>.md`; run ids are already safe in file names. */
export function summaryFileName(runId: string): string {
  return `dg-recovery-${runId}.md`;
}

/** The incident summary of a run as Markdown, from its events alone. */
export function summaryMarkdown(events: readonly RunEvent[]): string {
  return renderSummaryMarkdown(buildIncidentSummary(events, loadScenarios()));
}

/** Writes the summary next to the operator (or into `dir`) and returns the file's absolute path. */
export async function writeSummaryFile(runId: string, markdown: string, dir = '.'): Promise<string> {
  const path = resolve(join(dir, summaryFileName(runId)));
  await writeFile(path, markdown, 'utf8');
  return path;
}
