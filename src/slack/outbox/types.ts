import type { webApi } from '@slack/bolt';

/**
 * One message of a run's Slack thread, as the caller wants it to look now. Publishing the same `key` again replaces
 * the desired content; the outbox posts a key once and updates it afterwards.
 */
export interface OutboxMessage {
  /** Stable per run: `header`, `step-check_healthz`, `decision-replay`, `summary`. 1–100 of `A-Z a-z 0-9 _ . : -`. */
  readonly key: string;
  /** The channel id. A reply goes to its thread parent's channel, whatever it says here. */
  readonly channel: string;
  /**
   * Key of the message this one replies to (the run's `header`). Slack threads are one level deep, so a parent that
   * is itself a reply resolves to that reply's own parent.
   */
  readonly parentKey?: string;
  /** The notification and screen-reader fallback (mrkdwn). Cut to Slack's limit if longer. */
  readonly text: string;
  /** Block Kit blocks. Texts over their limits are cut, never sent to be rejected. */
  readonly blocks: readonly unknown[];
  /**
   * Also show the reply in the channel (`reply_broadcast`), for failures and the final result. Slack applies it
   * when a reply is posted; an update cannot broadcast, so a later change of this flag on an already posted message
   * has no effect (publish a separate message to broadcast news about it).
   */
  readonly broadcast?: boolean;
  /**
   * A number the caller makes grow as the run moves on (the run-log sequence number, say). A key's first `order`
   * fixes its place in the thread; a later publish of the key with a smaller `order` than the last accepted one is
   * stale and ignored, so a retried renderer cannot roll a message back.
   */
  readonly order: number;
  /** The runbook step the message is about, carried into the outbox's log lines; not part of the content. */
  readonly stepId?: string;
}

/** What happened to a {@link SlackOutbox.publish} call. */
export type PublishOutcome =
  /** New content stored and a delivery requested. */
  | 'changed'
  /** Same content as the latest one: nothing to send. */
  | 'unchanged'
  /** Older than the latest accepted content for this key (smaller `order`): ignored. */
  | 'stale';

export interface PublishResult {
  readonly outcome: PublishOutcome;
  /** The key's desired version after the call (1 for the first content). */
  readonly version: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** Where one message of a run stands between what the caller wants and what Slack shows. */
export interface OutboxMessageStatus {
  readonly key: string;
  readonly channel: string;
  readonly parentKey: string | undefined;
  /** The key's place in the thread (its first `order`). */
  readonly order: number;
  /** Slack's `ts` once posted. */
  readonly ts: string | undefined;
  /** Version of the content the caller wants now (counts content changes, starting at 1). */
  readonly desiredVersion: number;
  /** Version Slack shows; 0 before the first post. */
  readonly deliveredVersion: number;
  /**
   * `delivered`: Slack shows the desired version. `failed`: Slack refused the desired version for good (see
   * `lastError`); a newer version is tried again. `pending`: not yet sent, or waiting for a retry.
   */
  readonly state: DeliveryState;
  /** The last Slack error code for this message (`channel_not_found`, `http_503`, `ratelimited`…), if any. */
  readonly lastError: string | undefined;
  /** The delivered version went out as text only because Slack refused its blocks. */
  readonly textOnly: boolean;
  readonly broadcast: boolean;
}

/**
 * The part of `WebClient` the outbox uses. Pass a client built by `createOutboxSlackClient` (or configured the same
 * way: no retries, `rejectRateLimitedCalls`, a timeout) because the outbox does its own retrying and waiting.
 */
export interface OutboxSlackClient {
  readonly chat: {
    postMessage(args: webApi.ChatPostMessageArguments): Promise<webApi.ChatPostMessageResponse>;
    update(args: webApi.ChatUpdateArguments): Promise<webApi.ChatUpdateResponse>;
  };
  readonly conversations: {
    replies(args: webApi.ConversationsRepliesArguments): Promise<webApi.ConversationsRepliesResponse>;
  };
}

/** What Slack shows for one message of a run: enough to update it instead of posting it again. */
export interface SlackMessageRecord {
  readonly ts: string;
  readonly channel: string;
  /** For a reply: the ts of the top-level message whose thread it is in. */
  readonly threadTs?: string;
  /** Hash of the content Slack shows, to skip an update that would change nothing. */
  readonly hash: string;
}
