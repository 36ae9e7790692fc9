import type { RunEvent, Scenario } from '../../runbook/index.js';
import { type FileUploadClient, uploadFiles } from './file-upload.js';
import { summaryFiles } from './summary-files.js';

/** What `/dg summary` asks for: the run's summary files posted once more, in the channel the command came from. */
export interface SummaryFileRequest {
  readonly runId: string;
  readonly events: readonly RunEvent[];
  readonly scenario: Scenario;
  readonly channelId: string;
}

/** Posts a run's summary files (`incident-<runId>.md`, `.json`, `.png`) in a channel, once, with no retry. */
export type PostSummaryFile = (request: SummaryFileRequest) => Promise<{ fileId: string }>;

export function summaryFilePoster(slack: FileUploadClient, options: { timeoutMs?: number } = {}): PostSummaryFile {
  return async ({ runId, events, scenario, channelId }) => {
    const files = await summaryFiles(runId, events, scenario);
    const { fileIds } = await uploadFiles(slack, files, { channelId }, { timeoutMs: options.timeoutMs ?? 10_000 });
    return { fileId: fileIds[0] as string };
  };
}
