import type { RunEvent, Scenario } from '../../runbook/index.js';
import { buildIncidentSummary, renderSummaryBlocks, renderSummaryMarkdown } from '../../summary/index.js';
import type { MessageBlock } from '../blocks/validate.js';

export const SUMMARY_KEY = 'summary';

export interface SummaryContent {
  readonly text: string;
  readonly blocks: readonly MessageBlock[];
}

/** The incident summary of a run as one Slack message (built from the same log the thread is). */
export function incidentSummaryMessage(events: readonly RunEvent[], scenario: Scenario): SummaryContent {
  return renderSummaryBlocks(buildIncidentSummary(events, scenario));
}

/** The whole incident summary as Markdown: what the summary message leaves out (evidence, timeline) is in it. */
export function incidentSummaryMarkdown(events: readonly RunEvent[], scenario: Scenario): string {
  return renderSummaryMarkdown(buildIncidentSummary(events, scenario));
}

/** `incident-<runId>.md`, the name the summary file has in Slack (run ids are safe in file names). */
export function incidentFileName(runId: string): string {
  return `incident-${runId}.md`;
}
