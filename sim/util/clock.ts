import { sleep } from './time.js';

/**
 * The simulator's sense of time: every timestamp it writes (event rows, run rows, cursors, backups, releases) and
 * every duration a client can observe (boot, replays, latency, rate-limit windows). Pass one in the options to make
 * a run repeatable; the default is the real clock.
 */
export interface SimClock {
  /** Wall-clock time in epoch milliseconds; a fraction carries microseconds. */
  now(): number;
  /** Resolves after `ms` of this clock's time, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: SimClock = {
  // Microseconds from the monotonic clock, so that two stamps taken within one millisecond still differ.
  now: () => Date.now() + Number((process.hrtime.bigint() / 1000n) % 1000n) / 1000,
  sleep,
};

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

/** Where a {@link ManualClock} starts unless told otherwise. */
export const MANUAL_CLOCK_START = '2026-03-07T12:00:00Z';

/**
 * A clock that moves only when told: tests advance it once they have seen what happens in between, instead of
 * sleeping. `sleeping` counts the sleeps not yet over.
 */
export class ManualClock implements SimClock {
  private elapsed = 0;
  private readonly start: number;
  private sleepers: Sleeper[] = [];

  /** @param startAt - RFC3339 time `now()` reads before any `advance`. @defaultValue {@link MANUAL_CLOCK_START} */
  constructor(startAt: string = MANUAL_CLOCK_START) {
    this.start = Date.parse(startAt);
    if (Number.isNaN(this.start)) throw new RangeError('startAt must be an RFC3339 time');
  }

  get sleeping(): number {
    return this.sleepers.length;
  }

  now(): number {
    return this.start + this.elapsed;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        until: this.elapsed + ms,
        resolve: () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          signal?.removeEventListener('abort', sleeper.resolve);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', sleeper.resolve, { once: true });
    });
  }

  /** Moves the clock on by `ms`; every sleep due by then ends. */
  advance(ms: number): void {
    this.elapsed += ms;
    for (const s of this.sleepers.filter((x) => x.until <= this.elapsed)) s.resolve();
  }
}
