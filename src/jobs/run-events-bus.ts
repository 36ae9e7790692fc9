import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { RunEvent } from '../runbook/index.js';
import { runEventChannels } from './run-log/keys.js';

/** Reads a run's events from `fromSeq` on; the live log is the source for filling gaps. */
export type ReadEvents = (runId: string, fromSeq: number, limit: number) => Promise<RunEvent[]>;

export interface RunEventsBusOptions {
  /** The template the subscriber connection is duplicated from. */
  readonly redis: Redis;
  /** Same prefix as the run log. */
  readonly prefix: string;
  readonly read: ReadEvents;
  /** The log's length now, where a subscription to one run starts. */
  readonly lastSeq: (runId: string) => Promise<number>;
  readonly logger: Logger;
}

export interface SubscribeOptions {
  /**
   * For a single run: deliver from this seq on, history first, then live. @defaultValue the event after the
   * log's last one when the subscription became active
   */
  readonly fromSeq?: number;
}

export type Unsubscribe = () => Promise<void>;

/**
 * Live run events. Every append to the run log announces its events on the run's channel in the same Redis call
 * (`RunLogStore.append`); the bus listens. A lost message is repaired by the next one: subscribers fill gaps.
 */
export interface RunEventsBus {
  /**
   * Calls `onEvent` for each event of the run (or of every run, `'*'`), in seq order per run, each once. Pub/sub
   * loses messages when a connection drops; a subscriber that sees a gap reads the missing events from the log.
   */
  subscribe(runId: string | '*', onEvent: (event: RunEvent) => void, options?: SubscribeOptions): Promise<Unsubscribe>;
  close(): Promise<void>;
}

interface Listener {
  readonly runId: string | '*';
  readonly onEvent: (event: RunEvent) => void;
  /** Last seq delivered, per run. */
  readonly delivered: Map<string, number>;
  /** Deliveries run one after another so gap reads cannot reorder them. */
  chain: Promise<void>;
  active: boolean;
}

const FILL_LIMIT = 1000;

export function createRunEventsBus(options: RunEventsBusOptions): RunEventsBus {
  const { redis, prefix, logger } = options;
  const { channelPrefix, pattern } = runEventChannels(prefix);
  const listeners = new Set<Listener>();
  let subscriber: Redis | undefined;
  let subscribing: Promise<void> | undefined;
  let closed = false;

  const deliver = (listener: Listener, runId: string, events: readonly RunEvent[]): void => {
    listener.chain = listener.chain
      .then(async () => {
        if (!listener.active || events.length === 0) return;
        const first = events[0] as RunEvent;
        let last = listener.delivered.get(runId);
        // A run first seen by a wildcard listener starts where it is now; history is `get`'s business.
        if (last === undefined) last = first.seq - 1;
        let batch: readonly RunEvent[] = events;
        if (first.seq > last + 1) {
          const missing = await options.read(runId, last + 1, Math.min(FILL_LIMIT, first.seq - last - 1));
          batch = [...missing, ...events];
        }
        for (const event of batch) {
          if (event.seq !== last + 1 || !listener.active) continue;
          last = event.seq;
          listener.delivered.set(runId, last);
          try {
            listener.onEvent(event);
          } catch (err) {
            logger.warn({ runId, err }, 'run event listener threw');
          }
        }
      })
      .catch((err: unknown) => logger.warn({ runId, err }, 'could not deliver run events'));
  };

  const onMessage = (_pattern: string, channel: string, message: string): void => {
    const runId = channel.slice(channelPrefix.length);
    let events: RunEvent[];
    try {
      events = JSON.parse(message) as RunEvent[];
    } catch {
      return;
    }
    for (const listener of listeners) {
      if (listener.runId === '*' || listener.runId === runId) deliver(listener, runId, events);
    }
  };

  const ensureSubscribed = async (): Promise<void> => {
    if (subscriber) return subscribing;
    const connection = redis.duplicate();
    connection.on('error', (err) => logger.warn({ err }, 'run events subscriber error'));
    connection.on('pmessage', onMessage);
    subscriber = connection;
    subscribing = connection.psubscribe(pattern).then(() => undefined);
    return subscribing;
  };

  return {
    async subscribe(runId, onEvent, subscribeOptions = {}) {
      if (closed) throw new Error('the run events bus is closed');
      const listener: Listener = { runId, onEvent, delivered: new Map(), chain: Promise.resolve(), active: true };
      await ensureSubscribed();
      if (runId !== '*') {
        // Start after what the log holds now (or from `fromSeq`): events appended from here on arrive live, and
        // anything in between is read as a gap.
        const from = subscribeOptions.fromSeq ?? (await options.lastSeq(runId)) + 1;
        listener.delivered.set(runId, Math.max(0, from - 1));
      }
      listeners.add(listener);
      if (runId !== '*' && subscribeOptions.fromSeq !== undefined) {
        const history = await options.read(runId, subscribeOptions.fromSeq, FILL_LIMIT);
        if (history.length > 0) deliver(listener, runId, history);
      }
      return async () => {
        listener.active = false;
        listeners.delete(listener);
        await listener.chain;
      };
    },
    async close() {
      closed = true;
      for (const listener of listeners) listener.active = false;
      listeners.clear();
      const connection = subscriber;
      subscriber = undefined;
      if (connection) await connection.quit().catch(() => connection.disconnect());
    },
  };
}
