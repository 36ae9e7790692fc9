import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import { type CallBudget, RateBudget, type RateBudgetKey, type RateScope, windowOf } from './rate-budget.js';

export interface SharedRateBudgetOptions {
  readonly redis: Redis;
  /** Prefix of every Redis key of the deployment, shared by every process. */
  readonly prefix: string;
  readonly logger: Logger;
  /** @defaultValue DecisionGraph's defaults: read 600, write 300, admin 60 */
  readonly limits?: Partial<Record<RateScope, number>>;
  /** @defaultValue 60000 */
  readonly windowMs?: number;
  /** @defaultValue 250 */
  readonly edgeMarginMs?: number;
  /** Wall clock in epoch ms. @defaultValue `Date.now` */
  readonly now?: () => number;
  /** @defaultValue `timers/promises` setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

// Takes one request from the window's count unless it is spent; the key outlives its window by one window.
const TAKE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

// Marks the window spent (after a 429), never lowering a count.
const SPEND = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

/**
 * DecisionGraph's fixed-window budget counted in Redis, so every process of a deployment spends one budget per
 * scope, service account and tenant. Windows are aligned to the epoch like the server's; when Redis does not
 * answer, the process falls back to its own in-memory budget (it then only knows its own calls).
 */
export class SharedRateBudget implements CallBudget {
  readonly limits: Readonly<Record<RateScope, number>>;
  readonly windowMs: number;
  private readonly edgeMarginMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly fallback: RateBudget;
  private fallingBack = false;

  constructor(private readonly options: SharedRateBudgetOptions) {
    this.fallback = new RateBudget(options);
    this.limits = this.fallback.limits;
    this.windowMs = this.fallback.windowMs;
    this.edgeMarginMs = this.fallback.edgeMarginMs;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  }

  async acquire(key: RateBudgetKey, signal?: AbortSignal): Promise<number> {
    const start = this.now();
    // Asking Redis is not waiting: only a spent window counts as time waited.
    let waited = false;
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      const window = windowOf(now, this.windowMs);
      let taken: boolean;
      try {
        taken =
          (await this.options.redis.eval(TAKE, 1, this.redisKey(key, window), this.limits[key.scope], this.ttl())) ===
          1;
        this.recovered();
      } catch (err) {
        this.failed(err);
        const fallbackWait = await this.fallback.acquire(key, signal);
        return waited ? Math.max(0, this.now() - start) : fallbackWait;
      }
      if (taken) return waited ? Math.max(0, this.now() - start) : 0;
      waited = true;
      await this.sleep(Math.max(1, (window + 1) * this.windowMs + this.edgeMarginMs - now), signal);
    }
  }

  exhaust(key: RateBudgetKey): void {
    this.fallback.exhaust(key);
    const window = windowOf(this.now(), this.windowMs);
    this.options.redis
      .eval(SPEND, 1, this.redisKey(key, window), this.limits[key.scope], this.ttl())
      .catch((err: unknown) => this.failed(err));
  }

  private redisKey(key: RateBudgetKey, window: number): string {
    return `${this.options.prefix}dg-rate:${key.scope}:${key.account}:${key.tenantId}:${window}`;
  }

  private ttl(): number {
    return 2 * this.windowMs;
  }

  private failed(err: unknown): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    this.options.logger.warn({ err }, 'shared DecisionGraph rate budget unreachable; counting this process only');
  }

  private recovered(): void {
    if (!this.fallingBack) return;
    this.fallingBack = false;
    this.options.logger.info('shared DecisionGraph rate budget reachable again');
  }
}
