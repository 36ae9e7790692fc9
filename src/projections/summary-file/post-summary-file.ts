import type { RunEvent, Scenario } from '../../runbook/index.js';
import { incidentFileName, incidentSummaryMarkdown } from '../thread/summary-message.js';
import { type FileUploadClient, uploadTextFile } from './file-upload.js';

/** What `/dg summary` asks for: the run's summary file posted once more, in the channel the command came from. */
export interface SummaryFileRequest {
  readonly runId: string;
  readonly events: readonly RunEvent[];
  readonly scenario: Scenario;
  readonly channelId: string;
}

/** Posts a run's summary file (`incident-<runId>.md`) in a channel, once, with no retry: a person is waiting. */
export type PostSummaryFile = (request: SummaryFileRequest) => Promise<{ fileId: string }>;

export function summaryFilePoster(slack: FileUploadClient, options: { timeoutMs?: number } = {}): PostSummaryFile {
  return async ({ runId, events, scenario, channelId }) =>
    uploadTextFile(
      slack,
      {
        filename: incidentFileName(runId),
        title: `Incident summary: ${scenario.title} (${runId})`,
        content: incidentSummaryMarkdown(events, scenario),
        channelId,
      },
      { timeoutMs: options.timeoutMs ?? 10_000 },
    );
}
