import type { RunEvent, Scenario } from '../../runbook/index.js';
import type { MessageBlock } from '../../slack/blocks/validate.js';
import {
  buildIncidentSummary,
  type RunGist,
  renderSummaryBlocks,
  renderSummaryMarkdown,
  summaryGist,
} from '../summary/index.js';

export const SUMMARY_KEY = 'summary';

export interface SummaryContent {
  readonly text: string;
  readonly blocks: readonly MessageBlock[];
  /** The summary's gist, for the result announced in the channel. @defaultValue the result leaves it out */
  readonly gist?: RunGist;
}

/** The incident summary of a run as one Slack message (built from the same log the thread is), with its gist. */
export function incidentSummaryMessage(events: readonly RunEvent[], scenario: Scenario): SummaryContent {
  const summary = buildIncidentSummary(events, scenario);
  return { ...renderSummaryBlocks(summary), gist: summaryGist(summary) };
}

/** The gist of a run's incident summary: outcome, times, what people still owe, one sentence. */
export function incidentGist(events: readonly RunEvent[], scenario: Scenario): RunGist {
  return summaryGist(buildIncidentSummary(events, scenario));
}

/** The whole incident summary as Markdown: what the summary message leaves out (evidence, timeline) is in it. */
export function incidentSummaryMarkdown(events: readonly RunEvent[], scenario: Scenario): string {
  return renderSummaryMarkdown(buildIncidentSummary(events, scenario));
}

/** `incident-<runId>.md`, the name the summary file has in Slack (run ids are safe in file names). */
export function incidentFileName(runId: string): string {
  return `incident-${runId}.md`;
}
