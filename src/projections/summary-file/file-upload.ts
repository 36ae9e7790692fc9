import type { webApi } from '@slack/bolt';
import { classifySlackFailure, type SlackFailure } from '../../slack/outbox/slack-failures.js';
import { SummaryUploadFailedError } from './summary-file-errors.js';

/** The part of `WebClient` a file upload uses (the three steps behind `files.uploadV2`). */
export interface FileUploadClient {
  readonly files: {
    getUploadURLExternal(
      args: webApi.FilesGetUploadURLExternalArguments,
    ): Promise<webApi.FilesGetUploadURLExternalResponse>;
    completeUploadExternal(
      args: webApi.FilesCompleteUploadExternalArguments,
    ): Promise<webApi.FilesCompleteUploadExternalResponse>;
  };
}

export interface TextFileUpload {
  readonly filename: string;
  readonly title: string;
  readonly content: string;
  /** Where the file is shared. */
  readonly channelId: string;
  /** The thread parent's ts, to share the file as a reply. @defaultValue shared in the channel itself */
  readonly threadTs?: string;
}

export interface TextFileUploadOptions {
  /** Limit of the POST of the bytes to the upload URL. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /**
   * Called with the file id once the bytes are in and just before the file is shared. Nobody sees the file before
   * it is shared, so this is the last moment to note it; a throw stops the upload and the file stays unshared.
   */
  readonly beforeShare?: (fileId: string) => Promise<void>;
}

function failure(kind: 'transient' | 'permanent', code: string): SlackFailure {
  return { kind, code, maybeSent: false };
}

async function postBytes(url: string, bytes: Uint8Array, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new SummaryUploadFailedError('upload', failure('transient', 'request_failed'), err);
  }
  // The body is read whatever the status, so the connection goes back to the pool.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status === 200) return;
  if (res.status === 429) {
    const seconds = Number(res.headers.get('retry-after'));
    const retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
    throw new SummaryUploadFailedError('upload', {
      kind: 'rate_limited',
      code: 'ratelimited',
      retryAfterMs,
      maybeSent: false,
    });
  }
  const transient = res.status >= 500 || res.status === 408;
  throw new SummaryUploadFailedError('upload', failure(transient ? 'transient' : 'permanent', `http_${res.status}`));
}

/**
 * Uploads a text file the way `files.uploadV2` does, one step at a time so the caller can note the file between
 * the upload and the share: `files.getUploadURLExternal`, a POST of the bytes to the URL it gives, then
 * `files.completeUploadExternal`, which shares the file in the channel (or thread). Every failure is thrown as
 * {@link SummaryUploadFailedError} naming the step, except what `beforeShare` throws, which passes through.
 */
export async function uploadTextFile(
  client: FileUploadClient,
  file: TextFileUpload,
  options: TextFileUploadOptions = {},
): Promise<{ fileId: string }> {
  const bytes = new Uint8Array(Buffer.from(file.content, 'utf8'));
  let target: webApi.FilesGetUploadURLExternalResponse;
  try {
    target = await client.files.getUploadURLExternal({ filename: file.filename, length: bytes.byteLength });
  } catch (err) {
    throw new SummaryUploadFailedError('getUploadURLExternal', classifySlackFailure(err), err);
  }
  const { upload_url: uploadUrl, file_id: fileId } = target;
  if (!uploadUrl || !fileId) {
    throw new SummaryUploadFailedError('getUploadURLExternal', failure('permanent', 'no_upload_url'));
  }
  await postBytes(uploadUrl, bytes, options.timeoutMs ?? 30_000);
  await options.beforeShare?.(fileId);
  const files: webApi.FilesCompleteUploadExternalArguments['files'] = [{ id: fileId, title: file.title }];
  try {
    await client.files.completeUploadExternal(
      file.threadTs !== undefined
        ? { files, channel_id: file.channelId, thread_ts: file.threadTs }
        : { files, channel_id: file.channelId },
    );
  } catch (err) {
    throw new SummaryUploadFailedError('completeUploadExternal', classifySlackFailure(err), err);
  }
  return { fileId };
}
