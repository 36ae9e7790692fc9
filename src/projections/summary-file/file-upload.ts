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

/** One file of an upload: text is sent as UTF-8, bytes as they are. */
export interface UploadFile {
  readonly filename: string;
  readonly title: string;
  readonly content: string | Uint8Array;
}

/** Where files are shared. */
export interface SharePlace {
  readonly channelId: string;
  /** The thread parent's ts, to share the files as a reply. @defaultValue shared in the channel itself */
  readonly threadTs?: string;
}

export interface TextFileUpload extends SharePlace {
  readonly filename: string;
  readonly title: string;
  readonly content: string;
}

export interface TextFileUploadOptions {
  /** Limit of the POST of the bytes to the upload URL. @defaultValue 30000 */
  readonly timeoutMs?: number;
  /**
   * Called with the file ids once the bytes are in and just before the files are shared. Nobody sees a file before
   * it is shared, so this is the last moment to note them; a throw stops the upload and the files stay unshared.
   */
  readonly beforeShare?: (fileIds: readonly string[]) => Promise<void>;
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

async function uploadBytes(client: FileUploadClient, file: UploadFile, timeoutMs: number): Promise<string> {
  const bytes =
    typeof file.content === 'string' ? new Uint8Array(Buffer.from(file.content, 'utf8')) : new Uint8Array(file.content);
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
  await postBytes(uploadUrl, bytes, timeoutMs);
  return fileId;
}

/**
 * Uploads files the way `files.uploadV2` does, one step at a time so the caller can note them between the upload
 * and the share: `files.getUploadURLExternal` and a POST of the bytes per file, then one
 * `files.completeUploadExternal`, which shares them together in one message of the channel (or thread). Every
 * failure is thrown as {@link SummaryUploadFailedError} naming the step, except what `beforeShare` throws.
 */
export async function uploadFiles(
  client: FileUploadClient,
  files: readonly UploadFile[],
  place: SharePlace,
  options: TextFileUploadOptions = {},
): Promise<{ fileIds: string[] }> {
  const fileIds: string[] = [];
  for (const file of files) fileIds.push(await uploadBytes(client, file, options.timeoutMs ?? 30_000));
  await options.beforeShare?.(fileIds);
  const shared: webApi.FilesCompleteUploadExternalArguments['files'] = [
    { id: fileIds[0] as string, title: files[0]?.title as string },
    ...fileIds.slice(1).map((id, i) => ({ id, title: files[i + 1]?.title as string })),
  ];
  try {
    await client.files.completeUploadExternal(
      place.threadTs !== undefined
        ? { files: shared, channel_id: place.channelId, thread_ts: place.threadTs }
        : { files: shared, channel_id: place.channelId },
    );
  } catch (err) {
    throw new SummaryUploadFailedError('completeUploadExternal', classifySlackFailure(err), err);
  }
  return { fileIds };
}

/** {@link uploadFiles} with one text file. */
export async function uploadTextFile(
  client: FileUploadClient,
  file: TextFileUpload,
  options: TextFileUploadOptions = {},
): Promise<{ fileId: string }> {
  const { filename, title, content, ...place } = file;
  const { fileIds } = await uploadFiles(client, [{ filename, title, content }], place, options);
  return { fileId: fileIds[0] as string };
}
