import type { RunEvent, Scenario } from '../../runbook/index.js';
import { buildIncidentSummary, renderSummaryBlocks } from '../../summary/index.js';
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
