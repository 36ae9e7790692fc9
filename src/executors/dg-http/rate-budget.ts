import { setTimeout as delay } from 'node:timers/promises';

/** DecisionGraph's limiter scopes, one per route group. */
export type RateScope = 'read' | 'write' | 'admin';

/** One budget per (scope, service account, tenant), as the server keys its counters. */
export interface RateBudgetKey {
  readonly scope: RateScope;
  /** An opaque id of the service account (a token fingerprint, never the token). */
  readonly account: string;
  readonly tenantId: string;
}

export interface RateBudgetOptions {
  /**
   * Requests per window and scope.
   * @defaultValue `{ read: 600, write: 300, admin: 60 }` (DecisionGraph's defaults)
   */
  readonly limits?: Partial<Record<RateScope, number>>;
  /**
   * Window length; windows start at multiples of it since the epoch, like the server's unix-minute windows.
   * @defaultValue 60000
   */
  readonly windowMs?: number;
  /**
   * Extra wait past the next window's start when a window is spent, so a small clock difference with the server
   * does not land the first call of the new window in the server's old, spent one.
   * @defaultValue 250
   */
  readonly edgeMarginMs?: number;
  /** Wall clock in epoch ms. @defaultValue `Date.now` */
  readonly now?: () => number;
  /** Waits `ms`; rejects when `signal` aborts. @defaultValue `timers/promises` setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RATE_LIMITS: Readonly<Record<RateScope, number>> = Object.freeze({
  read: 600,
  write: 300,
  admin: 60,
});

/** What the HTTP client needs from a budget: the in-process {@link RateBudget} or one shared through Redis. */
export interface CallBudget {
  /** Takes one request, first waiting for the next window when this one is spent; resolves with the ms waited. */
  acquire(key: RateBudgetKey, signal?: AbortSignal): Promise<number>;
  /** Marks the key's current window spent, e.g. after the server answered 429 anyway. */
  exhaust(key: RateBudgetKey): void;
}

interface WindowCount {
  window: number;
  used: number;
}

/**
 * Client-side mirror of DecisionGraph's fixed-window limiter. The server sends no Retry-After, so instead of
 * learning the limit from 429s the client spends its own count and, once a window is spent, waits for the next
 * one. A 429 that still happens (another client on the same account, a restart of ours) marks the window spent.
 */
export class RateBudget implements CallBudget {
  readonly limits: Readonly<Record<RateScope, number>>;
  readonly windowMs: number;
  readonly edgeMarginMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly counts = new Map<string, WindowCount>();

  constructor(options: RateBudgetOptions = {}) {
    const limits = { ...DEFAULT_RATE_LIMITS, ...options.limits };
    for (const [scope, limit] of Object.entries(limits)) {
      if (!Number.isInteger(limit) || limit < 1)
        throw new RangeError(`rate limit for ${scope} must be an integer >= 1`);
    }
    this.limits = Object.freeze(limits);
    this.windowMs = options.windowMs ?? 60_000;
    this.edgeMarginMs = options.edgeMarginMs ?? 250;
    if (this.windowMs <= 0 || this.edgeMarginMs < 0 || this.edgeMarginMs >= this.windowMs) {
      throw new RangeError('windowMs must be positive and edgeMarginMs within [0, windowMs)');
    }
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  }

  /**
   * Takes one request from the key's budget, first waiting for the next window when this one is spent.
   * Resolves with the milliseconds waited; rejects only when `signal` aborts the wait.
   */
  async acquire(key: RateBudgetKey, signal?: AbortSignal): Promise<number> {
    const start = this.now();
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      const window = this.windowOf(now);
      const entry = this.entry(key, window);
      if (entry.used < this.limits[key.scope]) {
        entry.used += 1;
        return Math.max(0, now - start);
      }
      const ms = Math.max(1, (window + 1) * this.windowMs + this.edgeMarginMs - now);
      await this.sleep(ms, signal);
    }
  }

  /** Marks the key's current window spent, e.g. after the server answered 429 anyway. */
  exhaust(key: RateBudgetKey): void {
    const entry = this.entry(key, this.windowOf(this.now()));
    entry.used = Math.max(entry.used, this.limits[key.scope]);
  }

  /** Requests left in the key's current window. */
  remaining(key: RateBudgetKey): number {
    const window = this.windowOf(this.now());
    const entry = this.counts.get(mapKey(key));
    const used = entry && entry.window === window ? entry.used : 0;
    return Math.max(0, this.limits[key.scope] - used);
  }

  private windowOf(now: number): number {
    return windowOf(now, this.windowMs);
  }

  private entry(key: RateBudgetKey, window: number): WindowCount {
    const k = mapKey(key);
    let entry = this.counts.get(k);
    if (!entry || entry.window !== window) {
      entry = { window, used: 0 };
      this.counts.set(k, entry);
    }
    return entry;
  }
}

/** The window starting at or before `now`, numbered from the epoch like the server's unix-minute windows. */
export function windowOf(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

function mapKey(key: RateBudgetKey): string {
  return JSON.stringify([key.scope, key.account, key.tenantId]);
}

/**
 * The limiter scope DecisionGraph applies to a route, or `null` for unlimited routes (`/api/healthz`).
 * Admin routes are `/api/v1/admin/**`; writer routes are the POSTs that append; every other `/api/v1` route reads.
 */
export function scopeForRoute(method: string, path: string): RateScope | null {
  const pathname = path.split('?')[0] ?? path;
  if (!pathname.startsWith('/api/v1/')) return null;
  if (pathname.startsWith('/api/v1/admin/')) return 'admin';
  if (method.toUpperCase() === 'POST') {
    if (pathname === '/api/v1/events') return 'write';
    if (/^\/api\/v1\/workflows\/[^/]+\/actions$/.test(pathname)) return 'write';
    if (/^\/api\/v1\/workflow-studio\/traces\/[^/]+\/reviews$/.test(pathname)) return 'write';
  }
  return 'read';
}
