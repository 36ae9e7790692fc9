// One worker process of the shared-budget test: makes CALLS admin calls to the simulator through a client whose
// budget is counted in Redis, reports each outcome on stdout, and gives up its held calls when stdin closes.
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { DgHttpClient } from '../../../src/executors/dg-http/client.js';
import { SharedRateBudget } from '../../../src/executors/dg-http/shared-rate-budget.js';
import { createLogger } from '../../../src/logger.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const stop = new AbortController();
process.stdin.on('end', () => stop.abort());
process.stdin.resume();

const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: 1 });
const frozen = Number(env('FROZEN_NOW'));
const budget = new SharedRateBudget({
  redis,
  prefix: env('PREFIX'),
  logger: createLogger({ level: 'silent' }),
  limits: { admin: Number(env('LIMIT')) },
  // The simulator's clock is frozen too: every call falls in one window, whatever the wall clock does.
  now: () => frozen,
  sleep: async (ms, signal) => {
    process.stdout.write('held\n');
    await delay(ms, undefined, { signal });
  },
});
const client = new DgHttpClient({
  baseUrl: env('DG_URL'),
  apiToken: 'dev-reader-token',
  adminToken: 'dev-admin-token',
  rateBudget: budget,
});

const calls = Array.from({ length: Number(env('CALLS')) }, async () => {
  const result = await client.getReplay('replay-1', { signal: stop.signal });
  process.stdout.write(`result ${result.ok ? 'ok' : result.error.code}\n`);
});
await Promise.all(calls);
await client.close();
redis.disconnect();
