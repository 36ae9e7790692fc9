import { Redis, type RedisOptions } from 'ioredis';

/** How often a connection that Redis refused is tried again. */
const RECONNECT_EVERY_MS = 500;

/**
 * Whether Redis answers, as the terminal tells the person: a connection of its own that sees a stop at once (its
 * socket closes) and a return at once (it reconnects every half second). The run lives in Redis, so while it is
 * away the terminal waits instead of failing.
 */
export interface RedisWatch {
  readonly available: boolean;
  /** Resolves once Redis answers (at once if it does now), or when `signal` aborts. */
  whenAvailable(signal?: AbortSignal): Promise<void>;
  /** Something else found Redis not answering (a read that failed): counts as a stop until it reconnects. */
  reportDown(): void;
  close(): void;
}

export interface RedisWatchOptions {
  readonly url: string;
  /** TLS and Sentinel options beside the URL. @defaultValue `{}` */
  readonly connection?: RedisOptions;
  /** Called once per outage, when it begins. */
  readonly onDown: () => void;
  /** Called once per outage, when Redis answers again. */
  readonly onUp: () => void;
}

export function watchRedis(options: RedisWatchOptions): RedisWatch {
  const redis = new Redis(options.url, {
    ...options.connection,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => RECONNECT_EVERY_MS,
  });
  let available = true;
  let closed = false;
  let waiters: Array<() => void> = [];
  const down = () => {
    if (!available || closed) return;
    available = false;
    options.onDown();
  };
  // Connection errors are what this watch is for: they are reported as one stop, not logged one by one.
  redis.on('error', down);
  redis.on('close', down);
  redis.on('ready', () => {
    if (available) return;
    available = true;
    options.onUp();
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  });

  return {
    get available() {
      return available;
    },
    whenAvailable(signal) {
      if (available || signal?.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          waiters = waiters.filter((w) => w !== done);
          resolve();
        };
        waiters.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    reportDown() {
      // A read failed while this connection still looked fine (Redis hangs rather than refuses): only a fresh
      // connection can tell when it answers again.
      if (!available) return;
      down();
      redis.disconnect(true);
    },
    close() {
      closed = true;
      redis.disconnect();
    },
  };
}
