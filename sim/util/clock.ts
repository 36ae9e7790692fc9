import { sleep } from './time.js';

/** The simulator's sense of time where durations matter to a client (how long a replay runs). */
export interface SimClock {
  /** Resolves after `ms` of this clock's time, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: SimClock = { sleep };

interface Sleeper {
  readonly until: number;
  readonly resolve: () => void;
}

/**
 * A clock that moves only when told: tests advance it once they have seen what happens in between, instead of
 * sleeping. `sleeping` counts the sleeps not yet over.
 */
export class ManualClock implements SimClock {
  private now = 0;
  private sleepers: Sleeper[] = [];

  get sleeping(): number {
    return this.sleepers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper: Sleeper = {
        until: this.now + ms,
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
    this.now += ms;
    for (const s of this.sleepers.filter((x) => x.until <= this.now)) s.resolve();
  }
}
