import type { webApi } from '@slack/bolt';
import type { Logger } from '../../logger.js';
import { fitMessageToLimits, textOnlyBody } from './fit-message.js';
import type { OutboxStore, SnapshotMessage, StoredState } from './outbox-store.js';
import { classifySlackFailure, type SlackFailure } from './slack-failures.js';
import type { OutboxSlackClient, SlackMessageRecord } from './types.js';

/** `event_type` of the metadata every post carries, so a post whose answer was lost can be found again. */
export const OUTBOX_METADATA_EVENT = 'dg_outbox_message';

/** `lastError` of a reply whose thread parent Slack refused for good. */
export const PARENT_FAILED = 'parent_failed';
/** `lastError` of a message whose `parentKey` chain loops. */
export const PARENT_CYCLE = 'parent_cycle';

/** Walks over one run's messages; more passes pick up what was published during the previous one. */
const MAX_PASSES = 5;
/** Pages of `conversations.replies` read when looking for a post whose answer was lost. */
const MAX_REPLY_PAGES = 10;

/** Why a delivery stopped before every message was settled. */
export type DeliveryStop =
  | { readonly kind: 'rate_limited'; readonly key: string; readonly retryAfterMs: number }
  | { readonly kind: 'transient'; readonly key: string; readonly code: string }
  | { readonly kind: 'lock_lost' };

export type DeliveryOutcome = { readonly kind: 'done'; readonly calls: number } | DeliveryStop;

export interface DeliverRunOptions {
  readonly runId: string;
  readonly store: OutboxStore;
  readonly slack: OutboxSlackClient;
  readonly logger: Logger;
  /** Called before every Slack call: false when the run's lock was lost to another delivery. */
  readonly keepLock: () => Promise<boolean>;
  /** Called after every change recorded for a key. */
  readonly onRecorded?: (key: string) => void;
  /** The journal's copy of what Slack shows, which outlives Redis. @defaultValue none: Redis alone */
  readonly durable?: DurableDeliveries;
}

/** Where delivered messages are remembered beyond Redis. */
export interface DurableDeliveries {
  slackMessages(runId: string): Promise<ReadonlyMap<string, SlackMessageRecord>>;
  saveSlackMessage(runId: string, key: string, record: SlackMessageRecord): Promise<void>;
}

type StepResult = { readonly acted: boolean } | { readonly stop: DeliveryStop };

const NOTHING: StepResult = { acted: false };
const ACTED: StepResult = { acted: true };

type Root = { readonly ts: string; readonly channel: string } | 'waiting' | 'failed' | 'cycle' | { stop: DeliveryStop };

function byPlace(a: SnapshotMessage, b: SnapshotMessage): number {
  return a.position - b.position || a.seq - b.seq;
}

/**
 * Brings Slack in line with a run's desired messages, in thread order: a message never posted is posted (its
 * thread parent first), its `ts` recorded before anything else happens; a posted message whose content changed is
 * updated once with the latest content; an unchanged one costs nothing. A 429 or a transient failure stops the walk
 * at that message, so nothing later overtakes it, and is returned for the caller to wait and call again; a
 * permanent refusal is recorded on the message and the walk goes on.
 */
export async function deliverRun(options: DeliverRunOptions): Promise<DeliveryOutcome> {
  const delivery = new RunDelivery(options);
  return delivery.run();
}

class RunDelivery {
  readonly #o: DeliverRunOptions;
  readonly #log: Logger;
  #snapshot = new Map<string, SnapshotMessage>();
  #calls = 0;
  #delivered: ReadonlyMap<string, SlackMessageRecord> | undefined;

  constructor(options: DeliverRunOptions) {
    this.#o = options;
    this.#log = options.logger;
  }

  async run(): Promise<DeliveryOutcome> {
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      this.#snapshot = await this.#o.store.load(this.#o.runId);
      await this.#adoptDelivered();
      let acted = false;
      for (const message of [...this.#snapshot.values()].sort(byPlace)) {
        const result = await this.#deliver(message.key, new Set());
        if ('stop' in result) return result.stop;
        acted ||= result.acted;
      }
      if (!acted) break;
    }
    return { kind: 'done', calls: this.#calls };
  }

  /**
   * Messages Redis knows nothing about (it lost its data) and the journal says Slack shows are taken as posted, so
   * they are updated, or left alone when unchanged, and never posted again.
   */
  async #adoptDelivered(): Promise<void> {
    const unposted = [...this.#snapshot.values()].filter((m) => m.state.ts === undefined);
    if (unposted.length === 0) return;
    const delivered = await this.#deliveredRecords();
    for (const m of unposted) {
      const known = delivered.get(m.key);
      if (known === undefined) continue;
      const state: StoredState = {
        ...m.state,
        ts: known.ts,
        channel: known.channel,
        ...(known.threadTs !== undefined ? { threadTs: known.threadTs } : {}),
        deliveredVersion: 0,
        deliveredHash: known.hash,
      };
      this.#snapshot.set(m.key, { ...m, state, inflight: undefined });
    }
  }

  /** The journal's records of the run, read once per delivery; none when the journal does not answer. */
  async #deliveredRecords(): Promise<ReadonlyMap<string, SlackMessageRecord>> {
    if (this.#delivered !== undefined) return this.#delivered;
    try {
      this.#delivered = (await this.#o.durable?.slackMessages(this.#o.runId)) ?? new Map();
    } catch (err) {
      // Posting goes on without it: only a Redis loss while the journal is down can then post a message twice.
      this.#log.warn({ err }, 'journal did not answer; delivering from Redis alone');
      this.#delivered = new Map();
    }
    return this.#delivered;
  }

  async #deliver(key: string, visiting: Set<string>): Promise<StepResult> {
    const m = this.#snapshot.get(key);
    if (!m) return NOTHING;
    const { state } = m;

    if (state.ts !== undefined) {
      if (state.deliveredVersion >= m.version) return NOTHING;
      if (state.deliveredHash === m.hash) {
        // Changed and changed back before we got to it: Slack already shows this content.
        await this.#record(m, { ...state, deliveredVersion: m.version }, { settledVersion: m.version });
        return ACTED;
      }
      if (isFailedAt(state, m.version)) return NOTHING;
      return this.#update(m, state.ts, state.channel ?? m.content.channel);
    }

    if (isFailedAt(state, m.version) && state.lastError !== PARENT_FAILED) return NOTHING;
    let thread: { ts: string; channel: string } | undefined;
    if (m.content.parentKey !== undefined) {
      const root = await this.#threadRoot(m, visiting);
      if (typeof root === 'object' && 'stop' in root) return root;
      if (root === 'waiting') return NOTHING;
      if (root === 'failed' || root === 'cycle') {
        const code = root === 'failed' ? PARENT_FAILED : PARENT_CYCLE;
        if (isFailedAt(state, m.version) && state.lastError === code) return NOTHING;
        this.#log.warn(
          { ...about(m), parentKey: m.content.parentKey, code },
          'reply not posted: its thread parent is missing',
        );
        await this.#record(
          m,
          { ...state, lastError: code, failedVersion: m.version, at: Date.now() },
          { settledVersion: m.version },
        );
        return ACTED;
      }
      thread = root;
    }
    return this.#post(m, thread);
  }

  /** The top-level message a reply belongs in, posting its parent first when needed. */
  async #threadRoot(m: SnapshotMessage, visiting: Set<string>): Promise<Root> {
    const parentKey = m.content.parentKey;
    if (parentKey === undefined) return 'waiting';
    if (visiting.has(parentKey) || parentKey === m.key) return 'cycle';
    let parent = this.#snapshot.get(parentKey);
    if (!parent) {
      // Posted before Redis lost it, and not published since: its thread is still there.
      const known = (await this.#deliveredRecords()).get(parentKey);
      if (known !== undefined) return { ts: known.threadTs ?? known.ts, channel: known.channel };
      // The caller has not published the parent yet; the reply waits for it.
      return 'waiting';
    }
    if (parent.state.ts === undefined) {
      const result = await this.#deliver(parentKey, new Set([...visiting, m.key]));
      if ('stop' in result) return result;
      parent = this.#snapshot.get(parentKey);
      if (!parent || parent.state.ts === undefined) {
        if (parent && parent.state.lastError === PARENT_CYCLE) return 'cycle';
        return parent && isFailedAt(parent.state, parent.version) ? 'failed' : 'waiting';
      }
    }
    // Slack threads are one level deep: a reply to a reply goes into the same thread.
    const ts = parent.state.threadTs ?? parent.state.ts;
    if (ts === undefined) return 'waiting';
    return { ts, channel: parent.state.channel ?? parent.content.channel };
  }

  async #post(m: SnapshotMessage, thread: { ts: string; channel: string } | undefined): Promise<StepResult> {
    if (m.inflight && thread) {
      const found = await this.#findLostPost(m, thread);
      if (found !== undefined && typeof found === 'object') return found;
      if (typeof found === 'string') {
        const inflight = m.inflight;
        this.#log.warn(about(m), 'found a post whose answer was lost; keeping it instead of posting again');
        await this.#record(
          m,
          {
            ts: found,
            channel: thread.channel,
            threadTs: thread.ts,
            deliveredVersion: inflight.version,
            deliveredHash: inflight.hash,
            at: Date.now(),
          },
          { settledVersion: inflight.version, clearInflight: true },
        );
        // Now posted: a newer version than the lost post's is an update.
        const updated = await this.#deliver(m.key, new Set());
        return 'stop' in updated ? updated : ACTED;
      }
    } else if (m.inflight) {
      this.#log.warn(
        { ...about(m) },
        'an earlier post of this top-level message may have reached Slack without an answer; posting again',
      );
    }

    if (!(await this.#o.keepLock())) return { stop: { kind: 'lock_lost' } };
    const fitted = this.#fit(m);
    const channel = thread?.channel ?? m.content.channel;
    const threadArgs = thread
      ? { thread_ts: thread.ts, ...(m.content.broadcast ? { reply_broadcast: true } : {}) }
      : {};
    const metadata = { event_type: OUTBOX_METADATA_EVENT, event_payload: { run_id: this.#o.runId, key: m.key } };
    const send = (body: { text: string; blocks: unknown[] }) => {
      this.#calls += 1;
      return this.#o.slack.chat.postMessage({
        channel,
        text: body.text,
        ...(body.blocks.length > 0 ? { blocks: body.blocks } : {}),
        ...threadArgs,
        metadata,
        unfurl_links: false,
        unfurl_media: false,
      } as webApi.ChatPostMessageArguments);
    };

    await this.#o.store.markInflight(this.#o.runId, m.key, { version: m.version, hash: m.hash, at: Date.now() });
    let textOnly = false;
    let firstError: string | undefined;
    let response: webApi.ChatPostMessageResponse;
    try {
      response = await send(fitted);
    } catch (error) {
      const failure = classifySlackFailure(error);
      if (failure.kind !== 'content') return this.#failed(m, failure, 'post');
      this.#log.warn({ ...about(m), code: failure.code }, 'Slack refused the blocks; posting the text alone');
      firstError = failure.code;
      textOnly = true;
      try {
        response = await send(textOnlyBody(m.content));
      } catch (retryError) {
        return this.#failed(m, classifySlackFailure(retryError), 'post', true);
      }
    }
    const ts = response.ts;
    if (typeof ts !== 'string' || ts.length === 0) {
      return this.#failed(m, { kind: 'transient', code: 'missing_ts', maybeSent: true }, 'post');
    }
    // The ts is what makes every later attempt an update instead of a second post: nothing comes before saving it.
    await this.#record(
      m,
      {
        ts,
        channel: typeof response.channel === 'string' ? response.channel : channel,
        ...(thread ? { threadTs: thread.ts } : {}),
        deliveredVersion: m.version,
        deliveredHash: m.hash,
        ...(firstError !== undefined ? { lastError: firstError } : {}),
        ...(textOnly ? { textOnly } : {}),
        at: Date.now(),
      },
      { settledVersion: m.version, clearInflight: true },
    );
    return ACTED;
  }

  async #update(m: SnapshotMessage, ts: string, channel: string): Promise<StepResult> {
    if (!(await this.#o.keepLock())) return { stop: { kind: 'lock_lost' } };
    const send = (body: { text: string; blocks: unknown[] }) => {
      this.#calls += 1;
      // An empty `blocks` removes the previous blocks; leaving it out would keep them.
      return this.#o.slack.chat.update({
        channel,
        ts,
        text: body.text,
        blocks: body.blocks,
      } as webApi.ChatUpdateArguments);
    };
    let textOnly = false;
    let firstError: string | undefined;
    try {
      await send(this.#fit(m));
    } catch (error) {
      const failure = classifySlackFailure(error);
      if (failure.kind !== 'content') return this.#failed(m, failure, 'update');
      this.#log.warn({ ...about(m), code: failure.code }, 'Slack refused the blocks; updating to the text alone');
      firstError = failure.code;
      textOnly = true;
      try {
        await send(textOnlyBody(m.content));
      } catch (retryError) {
        return this.#failed(m, classifySlackFailure(retryError), 'update', true);
      }
    }
    const { lastError: _lastError, failedVersion: _failedVersion, textOnly: _textOnly, ...kept } = m.state;
    await this.#record(
      m,
      {
        ...kept,
        deliveredVersion: m.version,
        deliveredHash: m.hash,
        ...(firstError !== undefined ? { lastError: firstError } : {}),
        ...(textOnly ? { textOnly } : {}),
        at: Date.now(),
      },
      { settledVersion: m.version },
    );
    return ACTED;
  }

  async #failed(
    m: SnapshotMessage,
    failure: SlackFailure,
    op: 'post' | 'update',
    afterFallback = false,
  ): Promise<StepResult> {
    const state = { ...m.state, lastError: failure.code, at: Date.now() };
    const clearInflight = op === 'post' && !failure.maybeSent;
    switch (failure.kind) {
      case 'rate_limited':
        this.#log.info({ ...about(m), op, retryAfterMs: failure.retryAfterMs }, 'Slack rate limit; waiting');
        await this.#record(m, state, { clearInflight });
        return { stop: { kind: 'rate_limited', key: m.key, retryAfterMs: failure.retryAfterMs } };
      case 'transient':
        this.#log.warn({ ...about(m), op, code: failure.code }, 'Slack unavailable; will retry');
        await this.#record(m, state, { clearInflight });
        return { stop: { kind: 'transient', key: m.key, code: failure.code } };
      case 'content':
      case 'permanent':
        this.#log.error(
          { ...about(m), op, code: failure.code, textOnly: afterFallback },
          'Slack refused the message; recorded as a failed delivery',
        );
        await this.#record(m, { ...state, failedVersion: m.version }, { settledVersion: m.version, clearInflight });
        return ACTED;
    }
  }

  /** A post the previous attempt may have made: its ts when Slack has it, undefined when not. */
  async #findLostPost(
    m: SnapshotMessage,
    thread: { ts: string; channel: string },
  ): Promise<string | undefined | StepResult> {
    if (!(await this.#o.keepLock())) return { stop: { kind: 'lock_lost' } };
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_REPLY_PAGES; page++) {
        this.#calls += 1;
        const response = await this.#o.slack.conversations.replies({
          channel: thread.channel,
          ts: thread.ts,
          include_all_metadata: true,
          limit: 200,
          ...(cursor !== undefined ? { cursor } : {}),
        });
        const match = response.messages?.find((reply) => {
          const metadata = reply.metadata as
            | { event_type?: unknown; event_payload?: Record<string, unknown> }
            | undefined;
          return (
            metadata?.event_type === OUTBOX_METADATA_EVENT &&
            metadata.event_payload?.run_id === this.#o.runId &&
            metadata.event_payload?.key === m.key
          );
        });
        if (match?.ts) return match.ts;
        cursor = response.response_metadata?.next_cursor || undefined;
        if (cursor === undefined || !response.has_more) return undefined;
      }
      return undefined;
    } catch (error) {
      const failure = classifySlackFailure(error);
      if (failure.kind === 'rate_limited' || failure.kind === 'transient') return this.#failed(m, failure, 'post');
      // Without read access (missing_scope…) there is no way to look: a second post is the lesser harm than none.
      this.#log.warn({ ...about(m), code: failure.code }, 'cannot look for a lost post; posting again');
      return undefined;
    }
  }

  #fit(m: SnapshotMessage): { text: string; blocks: unknown[] } {
    const result = fitMessageToLimits(m.content);
    if (result.violations.length > 0) {
      this.#log.warn(
        {
          ...about(m),
          violations: result.violations.slice(0, 10).map((v) => `${v.pointer}: ${v.message}`),
          remaining: result.remaining.slice(0, 10).map((v) => `${v.pointer}: ${v.message}`),
        },
        'message broke Block Kit limits; cut to fit',
      );
    }
    return result.body;
  }

  /** Copies what Slack now shows for the key to the journal; a failure leaves it to Redis alone, logged. */
  async #keep(
    key: string,
    state: StoredState & { readonly ts: string; readonly deliveredHash: string },
  ): Promise<void> {
    const record: SlackMessageRecord = {
      ts: state.ts,
      channel: state.channel ?? this.#snapshot.get(key)?.content.channel ?? '',
      ...(state.threadTs !== undefined ? { threadTs: state.threadTs } : {}),
      hash: state.deliveredHash,
    };
    await this.#o.durable
      ?.saveSlackMessage(this.#o.runId, key, record)
      .catch((err: unknown) =>
        this.#log.warn(
          { err, ...about(this.#snapshot.get(key) ?? { key }) },
          'could not journal the message ts; Redis alone has it',
        ),
      );
  }

  async #record(
    m: SnapshotMessage,
    state: StoredState,
    options: { settledVersion?: number; clearInflight?: boolean },
  ): Promise<void> {
    await this.#o.store.record(this.#o.runId, m.key, state, options);
    const { ts, deliveredHash } = state;
    if (ts !== undefined && deliveredHash !== undefined) {
      if (ts !== m.state.ts || deliveredHash !== m.state.deliveredHash)
        await this.#keep(m.key, { ...state, ts, deliveredHash });
    }
    const settledVersion = options.settledVersion ?? m.settledVersion;
    const inflight = options.clearInflight ? undefined : m.inflight;
    this.#snapshot.set(m.key, { ...m, state, settledVersion, inflight });
    this.#o.onRecorded?.(m.key);
  }
}

function isFailedAt(state: StoredState, version: number): boolean {
  return state.failedVersion !== undefined && state.failedVersion >= version;
}

/** A message as its log lines name it: the key, and the runbook step when the message is about one. */
function about(m: { readonly key: string; readonly content?: { readonly stepId?: string } }): {
  key: string;
  stepId?: string;
} {
  return m.content?.stepId !== undefined ? { key: m.key, stepId: m.content.stepId } : { key: m.key };
}
