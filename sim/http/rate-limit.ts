import { ApiError } from './api-error.js';

export type RateScope = 'read' | 'write' | 'admin';

/**
 * DecisionGraph's fixed-window limiter: the window is the current unix minute, the key is
 * `(scope, "<account_id>:<tenant_id>")`, and the count lives in memory only (a restart forgets it).
 */
export class RateLimiter {
  private window = -1;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly limits: Record<RateScope, number>,
    /** Epoch milliseconds: the simulator's clock. */
    private readonly now: () => number,
  ) {}

  hit(scope: RateScope, accountId: string, tenantId: string): void {
    const window = Math.floor(this.now() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    const key = `${scope}\u0000${accountId}:${tenantId}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count > this.limits[scope]) {
      throw new ApiError('rate_limited', `Rate limit exceeded for ${scope} API scope`);
    }
  }
}
