import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { REAL_CLOCK } from '../../../sim/util/clock.js';
import { ErrorCode } from '../../../src/errors.js';
import { SharedRateBudget } from '../../../src/executors/dg-http/shared-rate-budget.js';
import { createLogger } from '../../../src/logger.js';
import { freePort } from '../../helpers/own-postgres.js';
import { type WatchedChild, watchChild } from '../../helpers/watched-child.js';

const CHILD = fileURLToPath(new URL('./shared-budget-child.ts', import.meta.url));
const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN_LIMIT = 4;
const CALLS_EACH = 4;
// Both the simulator's limiter and the workers' budgets read this instant: one window for the whole test.
const FROZEN_NOW = Date.UTC(2026, 2, 7, 12, 0, 30);

let sim: SimulatorHandle;
const prefix = `test-budget-${randomUUID().slice(0, 8)}:`;

beforeAll(async () => {
  sim = await startSimulator({
    seed: { tracesPerTenant: 2 },
    rateLimits: { admin: ADMIN_LIMIT },
    clock: { now: () => FROZEN_NOW, sleep: REAL_CLOCK.sleep },
  });
});

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await sim?.close();
});

function worker(): WatchedChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      REDIS_URL,
      PREFIX: prefix,
      DG_URL: sim.url,
      FROZEN_NOW: String(FROZEN_NOW),
      LIMIT: String(ADMIN_LIMIT),
      CALLS: String(CALLS_EACH),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return watchChild(child);
}

const count = (text: string, line: string) => text.split('\n').filter((l) => l === line).length;

describe('shared DecisionGraph rate budget', () => {
  it('two worker processes together send no more than the admin budget and earn no 429', async () => {
    const workers = [worker(), worker()];
    const all = () => workers.map((w) => w.stdout).join('\n');
    // Together they want twice the budget: the budget's worth gets answered, every other call is held.
    await expect
      .poll(() => ({ answered: count(all(), `result ${ErrorCode.ApiNotFound}`), held: count(all(), 'held') }), {
        timeout: 30_000,
      })
      .toEqual({ answered: ADMIN_LIMIT, held: 2 * CALLS_EACH - ADMIN_LIMIT });
    for (const w of workers) w.child.stdin?.end();
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes).toEqual([0, 0]);

    const output = all();
    expect(count(output, `result ${ErrorCode.ApiRateLimited}`)).toBe(0);
    expect(count(output, `result ${ErrorCode.ApiNotFound}`)).toBe(ADMIN_LIMIT);
    expect(count(output, `result ${ErrorCode.ApiTimeout}`)).toBe(2 * CALLS_EACH - ADMIN_LIMIT);
  }, 60_000);
});

describe('shared budget without Redis', () => {
  it("falls back to the process's own count, says so once, and still holds the call past the limit", async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const held: number[] = [];
    const budget = new SharedRateBudget({
      redis,
      prefix,
      logger,
      limits: { admin: 2 },
      now: () => FROZEN_NOW,
      sleep: async (ms) => {
        held.push(ms);
        throw new Error('held');
      },
    });
    const key = { scope: 'admin' as const, account: 'acct', tenantId: 'default' };
    try {
      expect(await budget.acquire(key)).toBe(0);
      expect(await budget.acquire(key)).toBe(0);
      await expect(budget.acquire(key)).rejects.toThrow('held');
      expect(held).toHaveLength(1);
      expect(lines.filter((l) => l.includes('shared DecisionGraph rate budget unreachable'))).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });
});
