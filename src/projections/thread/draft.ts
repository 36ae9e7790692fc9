import type { MessageBlock } from '../../slack/blocks/validate.js';

/** A thread message before it gets its channel and order: what each renderer returns. */
export interface MessageDraft {
  /** Stable per run; see `OutboxMessage.key`. */
  readonly key: string;
  /** Sequence number of the event that brought the message into being; fixes its place in the thread. */
  readonly anchor: number;
  /** Notification fallback (mrkdwn). */
  readonly text: string;
  readonly blocks: readonly MessageBlock[];
  /** Also shown in the channel (failures and the final result). */
  readonly broadcast?: boolean;
  /** `false` for the thread's top-level message. @defaultValue true (a reply to the header) */
  readonly inThread?: boolean;
}

/** Key of the run's top-level message, the parent of every other one. */
export const HEADER_KEY = 'header';
