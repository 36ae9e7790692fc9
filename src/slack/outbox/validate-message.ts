import { OutboxMessageInvalidError } from './outbox-errors.js';
import type { StoredContent } from './outbox-store.js';
import type { OutboxMessage } from './types.js';

const RUN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const KEY = /^[A-Za-z0-9_.:-]{1,100}$/;
const STEP_ID = /^[a-z0-9_]{1,63}$/;
const CHANNEL = /^[A-Za-z0-9_#-]{1,80}$/;
/** A run's message in Redis; Slack's own limits are far below, so this only stops a runaway renderer. */
const MAX_STORED_BYTES = 512 * 1024;

/** Checks a run id and a message and returns what is stored for it; throws {@link OutboxMessageInvalidError}. */
export function toStoredContent(runId: string, message: OutboxMessage): StoredContent {
  const problems: string[] = [];
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) problems.push('runId must be 1-128 of A-Z a-z 0-9 _ . : -');
  if (typeof message !== 'object' || message === null)
    throw new OutboxMessageInvalidError(['message must be an object']);
  if (typeof message.key !== 'string' || !KEY.test(message.key))
    problems.push('key must be 1-100 of A-Z a-z 0-9 _ . : -');
  if (typeof message.channel !== 'string' || !CHANNEL.test(message.channel))
    problems.push('channel must be a channel id');
  if (message.parentKey !== undefined) {
    if (typeof message.parentKey !== 'string' || !KEY.test(message.parentKey)) {
      problems.push('parentKey must be 1-100 of A-Z a-z 0-9 _ . : -');
    } else if (message.parentKey === message.key) {
      problems.push('parentKey must name another message');
    }
  }
  if (typeof message.text !== 'string') problems.push('text must be a string');
  if (!Array.isArray(message.blocks)) problems.push('blocks must be an array');
  if (typeof message.order !== 'number' || !Number.isFinite(message.order))
    problems.push('order must be a finite number');
  if (message.broadcast !== undefined && typeof message.broadcast !== 'boolean')
    problems.push('broadcast must be a boolean');
  if (message.stepId !== undefined && (typeof message.stepId !== 'string' || !STEP_ID.test(message.stepId)))
    problems.push('stepId must be 1-63 of a-z 0-9 _');
  if (problems.length > 0) throw new OutboxMessageInvalidError(problems);

  const content: StoredContent = {
    channel: message.channel,
    parentKey: message.parentKey,
    text: message.text,
    blocks: [...message.blocks],
    broadcast: message.broadcast === true,
    ...(message.stepId !== undefined ? { stepId: message.stepId } : {}),
  };
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(content));
  } catch {
    throw new OutboxMessageInvalidError(['blocks must be plain JSON']);
  }
  if (size > MAX_STORED_BYTES)
    throw new OutboxMessageInvalidError([`message is ${size} bytes; at most ${MAX_STORED_BYTES}`]);
  return content;
}
