import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createBotMetrics } from '../../../src/ops/metrics.js';
import { type OpsServer, opsRoutes, startOpsServer } from '../../../src/ops/ops-routes.js';
import { cachedCheck } from '../../../src/ops/readiness.js';

const logger = createLogger({ level: 'silent' });
let server: OpsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(options: Partial<Parameters<typeof opsRoutes>[0]>) {
  const routes = opsRoutes({ metrics: createBotMetrics(), readiness: [], logger, ...options });
  server = await startOpsServer(routes, 0, logger);
  return `http://127.0.0.1:${server.port}`;
}

describe('/readyz', () => {
  it('names each part that fails or does not answer in time, and says why', async () => {
    const base = await serve({
      readiness: [
        { name: 'redis', check: async () => undefined },
        { name: 'journal', check: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) },
        { name: 'slack', check: () => new Promise<void>(() => undefined) },
      ],
      readinessTimeoutMs: 50,
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      status: 'not ready',
      failing: ['journal', 'slack'],
      parts: { redis: 'ok', journal: 'connect ECONNREFUSED 127.0.0.1:5432', slack: 'no answer within 50 ms' },
    });
  });

  it('answers 404 for other methods and paths', async () => {
    const base = await serve({});
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

describe('/metrics', () => {
  it('answers 500 without a partial body when the scrape itself fails', async () => {
    const base = await serve({ beforeScrape: () => Promise.reject(new Error('boom')) });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal error\n');
  });
});

describe('cachedCheck', () => {
  it('asks again only after the time to live, and at once after a failure', async () => {
    let t = 0;
    let calls = 0;
    let fail = false;
    const check = cachedCheck(
      async () => {
        calls += 1;
        if (fail) throw new Error('invalid_auth');
      },
      30_000,
      () => t,
    );
    await check();
    t = 29_999;
    await check();
    expect(calls).toBe(1);
    t = 30_000;
    fail = true;
    await expect(check()).rejects.toThrow('invalid_auth');
    await expect(check()).rejects.toThrow('invalid_auth');
    expect(calls).toBe(3);
  });
});
