import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RATE_LIMITS,
  RateBudget,
  type RateBudgetKey,
  scopeForRoute,
} from '../../../../src/executors/dg-http/rate-budget.js';

const MINUTE = 60_000;
// 2026-03-07T12:00:00Z, a minute boundary.
const T0 = Date.UTC(2026, 2, 7, 12, 0, 0);

function fakeClock(start: number) {
  const state = { t: start, sleeps: [] as number[] };
  return {
    state,
    now: () => state.t,
    sleep: async (ms: number, signal?: AbortSignal) => {
      signal?.throwIfAborted();
      state.sleeps.push(ms);
      // Concurrent sleepers wake at their own deadlines on one shared clock, like timers do.
      const wakeAt = state.t + ms;
      await Promise.resolve();
      state.t = Math.max(state.t, wakeAt);
    },
  };
}

const admin: RateBudgetKey = { scope: 'admin', account: 'acct-a', tenantId: 'default' };

describe('RateBudget', () => {
  it('uses DecisionGraph defaults: read 600, write 300, admin 60 per minute', () => {
    expect(new RateBudget().limits).toEqual({ read: 600, write: 300, admin: 60 });
    expect(DEFAULT_RATE_LIMITS.admin).toBe(60);
  });

  it('lets the limit through without waiting, then waits for the next wall-clock minute', async () => {
    const clock = fakeClock(T0 + 20_000);
    const budget = new RateBudget({ limits: { admin: 3 }, edgeMarginMs: 0, ...clock });
    const waits = [];
    for (let i = 0; i < 3; i += 1) waits.push(await budget.acquire(admin));
    expect(waits).toEqual([0, 0, 0]);
    expect(budget.remaining(admin)).toBe(0);
    const waited = await budget.acquire(admin);
    expect(waited).toBe(40_000);
    expect(clock.state.t).toBe(T0 + MINUTE);
    expect(budget.remaining(admin)).toBe(2);
  });

  it('aligns windows to the minute like the server, not to the first call', async () => {
    const clock = fakeClock(T0 + 59_000);
    const budget = new RateBudget({ limits: { admin: 2 }, edgeMarginMs: 100, ...clock });
    await budget.acquire(admin);
    await budget.acquire(admin);
    expect(await budget.acquire(admin)).toBe(1_100);
    expect(clock.state.t).toBe(T0 + MINUTE + 100);
  });

  it('keeps separate budgets per scope, account and tenant', async () => {
    const clock = fakeClock(T0);
    const budget = new RateBudget({ limits: { admin: 1, read: 1 }, ...clock });
    await budget.acquire(admin);
    expect(await budget.acquire({ ...admin, scope: 'read' })).toBe(0);
    expect(await budget.acquire({ ...admin, account: 'acct-b' })).toBe(0);
    expect(await budget.acquire({ ...admin, tenantId: 'other' })).toBe(0);
    expect(clock.state.sleeps).toEqual([]);
    expect(budget.remaining(admin)).toBe(0);
  });

  it('exhaust() after a 429 makes the next call wait for the next window', async () => {
    const clock = fakeClock(T0 + 30_000);
    const budget = new RateBudget({ limits: { admin: 60 }, edgeMarginMs: 0, ...clock });
    await budget.acquire(admin);
    budget.exhaust(admin);
    expect(budget.remaining(admin)).toBe(0);
    expect(await budget.acquire(admin)).toBe(30_000);
  });

  it('concurrent callers share the window: the surplus waits', async () => {
    const clock = fakeClock(T0 + 10_000);
    const budget = new RateBudget({ limits: { admin: 2 }, edgeMarginMs: 0, ...clock });
    const waits = await Promise.all([1, 2, 3, 4].map(() => budget.acquire(admin)));
    expect(waits.filter((w) => w === 0)).toHaveLength(2);
    expect(waits.filter((w) => w > 0)).toHaveLength(2);
  });

  it('an aborted signal ends the wait', async () => {
    const clock = fakeClock(T0);
    const budget = new RateBudget({ limits: { admin: 1 }, ...clock });
    await budget.acquire(admin);
    const controller = new AbortController();
    controller.abort(new Error('job cancelled'));
    await expect(budget.acquire(admin, controller.signal)).rejects.toThrow('job cancelled');
  });

  it('rejects nonsensical limits', () => {
    expect(() => new RateBudget({ limits: { read: 0 } })).toThrow(RangeError);
    expect(() => new RateBudget({ limits: { admin: 1.5 } })).toThrow(RangeError);
  });

  it('polling through the budget never exceeds what a fixed-window server allows (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: MINUTE - 1 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 150 }),
        async (limit, offset, gaps) => {
          const clock = fakeClock(T0 + offset);
          const budget = new RateBudget({ limits: { admin: limit }, ...clock });
          // The server's own counter: unix minute -> requests seen.
          const server = new Map<number, number>();
          let rejected = 0;
          for (const gap of gaps) {
            clock.state.t += gap;
            await budget.acquire(admin);
            const window = Math.floor(clock.state.t / MINUTE);
            const seen = (server.get(window) ?? 0) + 1;
            server.set(window, seen);
            if (seen > limit) rejected += 1;
          }
          expect(rejected).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('scopeForRoute', () => {
  it.each([
    ['GET', '/api/healthz', null],
    ['GET', '/api/v1/projections/health', 'read'],
    ['GET', '/api/v1/traces/t-1', 'read'],
    ['GET', '/api/v1/graph/context?node_type=trace&node_id=t', 'read'],
    ['GET', '/api/v1/workflows', 'read'],
    ['GET', '/api/v1/workflows/t%3Aexception%3Ae1', 'read'],
    ['POST', '/api/v1/events', 'write'],
    ['POST', '/api/v1/workflows/w-1/actions', 'write'],
    ['POST', '/api/v1/workflow-studio/traces/t-1/reviews', 'write'],
    ['POST', '/api/v1/admin/replays', 'admin'],
    ['GET', '/api/v1/admin/replays/replay-1', 'admin'],
    ['POST', '/api/v1/admin/replays/replay-1/cancel', 'admin'],
    ['GET', '/api/v1/admin/workflows/w-1/export', 'admin'],
  ] as const)('%s %s -> %s', (method, path, scope) => {
    expect(scopeForRoute(method, path)).toBe(scope);
  });
});
