import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { apiClient, controlClient, eventually } from './sim-client.js';

let sim: SimulatorHandle;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  sim = await startSimulator({ seed: { tracesPerTenant: 5 }, rateLimits: { read: 3, write: 2, admin: 2 } });
  api = apiClient(sim);
});

afterAll(async () => {
  await sim?.close();
});

// The limiter's window is the current unix minute: start each test well inside one so it cannot roll over.
beforeEach(async () => {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5000) await new Promise((r) => setTimeout(r, left + 50));
});

describe('rate limits', () => {
  it('answers the (limit+1)-th request of a scope with 429 and no Retry-After', async () => {
    for (let i = 0; i < 3; i++)
      expect((await api.get('/api/v1/projections/health', { token: 'dev-reader-token' })).status).toBe(200);
    const limited = await api.get('/api/v1/projections/health', { token: 'dev-reader-token' });
    expect(limited.status).toBe(429);
    expect(limited.body.error).toEqual({
      code: 'rate_limited',
      details: {},
      message: 'Rate limit exceeded for read API scope',
    });
    expect(limited.headers['retry-after']).toBeUndefined();
  });

  it('keys the budget by scope and account:tenant, and never limits healthz', async () => {
    expect((await api.get('/api/v1/projections/health', { token: 'dev-reader-token', tenant: 'acme' })).status).toBe(
      200,
    );
    expect((await api.get('/api/v1/projections/health', { token: 'dev-writer-token' })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      expect(
        (await api.post('/api/v1/admin/replays', { projection: 'trace_summary', mode: 'nope', reason: 'r' })).status,
      ).toBe(400);
    }
    const admin = await api.post('/api/v1/admin/replays', { projection: 'trace_summary', reason: 'r' });
    expect([admin.status, admin.body.error.message]).toEqual([429, 'Rate limit exceeded for admin API scope']);
    for (let i = 0; i < 10; i++) expect((await request(`${sim.url}/api/healthz`)).statusCode).toBe(200);
  });

  it('does not count requests that fail authentication', async () => {
    for (let i = 0; i < 5; i++)
      expect((await api.get('/api/v1/projections/health', { token: 'nope' })).status).toBe(401);
    expect((await api.get('/api/v1/projections/health', { token: 'dev-admin-token', tenant: 'fresh' })).status).toBe(
      200,
    );
  });

  it('forgets every budget on restart', async () => {
    for (let i = 0; i < 4; i++)
      await api.get('/api/v1/projections/health', { token: 'dev-reader-token', tenant: 'r2' });
    expect((await api.get('/api/v1/projections/health', { token: 'dev-reader-token', tenant: 'r2' })).status).toBe(429);
    await controlClient(sim).post('/host/restart');
    const after = await eventually(async () => {
      try {
        return await api.get('/api/v1/projections/health', { token: 'dev-reader-token', tenant: 'r2' });
      } catch {
        return undefined;
      }
    });
    expect(after.status).toBe(200);
  });
});
