import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SERVICE_ACCOUNTS, type SimulatorHandle, startSimulator } from '../../../sim/index.js';
import { ErrorCode } from '../../../src/errors.js';
import type { ApiTimeoutError, ApiUnreachableError } from '../../../src/executors/dg-http/api-errors.js';
import type { DgCallResult } from '../../../src/executors/dg-http/evidence.js';
import { RateBudget } from '../../../src/executors/dg-http/rate-budget.js';
import { healthVerdict } from '../../../src/runbook/health-verdict.js';
import { clientMaker, errorOf, simClientOptions } from './fixtures.js';

const ADMIN_LIMIT = 3;

let sim: SimulatorHandle;
const client = clientMaker(() => simClientOptions(sim));

beforeAll(async () => {
  sim = await startSimulator({
    seed: { tracesPerTenant: 20 },
    rateLimits: { admin: ADMIN_LIMIT },
    serviceAccounts: {
      service_accounts: [
        ...DEV_SERVICE_ACCOUNTS.service_accounts,
        {
          account_id: 'poller-admin',
          roles: ['admin'],
          tenant_ids: ['*'],
          permissions: ['projection_replay'],
          token: 'poller-admin-token',
        },
      ],
    },
  });
});

afterAll(async () => {
  await client.closeAll();
  await sim?.close();
});

describe('DecisionGraph faults as the client reports them', () => {
  it('postgres down: healthz still 200 with projection health unavailable; projection health 500', async () => {
    await sim.inject('postgres-down');
    try {
      const c = client();
      const hz = await c.healthz();
      if (!hz.ok) throw hz.error;
      expect(hz.evidence.status).toBe(200);
      expect(hz.data.projection_health).toMatchObject({ status: 'unavailable' });

      const ph = await c.projectionHealth();
      const error = errorOf(ph);
      expect(error.code).toBe(ErrorCode.ApiInternal);
      expect(error).toMatchObject({ status: 500, dgCode: 'internal_error', transient: true });

      const verdict = healthVerdict({ healthz: hz, projectionHealth: ph });
      expect(verdict.failing.map((f) => f.condition)).toEqual([
        'projection_health_unavailable',
        'projection_health_error',
      ]);
    } finally {
      await sim.clear('postgres-down');
    }
  });

  it('node down: unreachable, and the verdict says so', async () => {
    await sim.inject('node-down');
    try {
      const c = client();
      const hz = await c.healthz();
      const error = errorOf(hz);
      expect(error.code).toBe(ErrorCode.ApiUnreachable);
      expect((error as ApiUnreachableError).systemCode).toBe('ECONNREFUSED');
      expect(hz.evidence.status).toBeNull();
      const verdict = healthVerdict({ healthz: hz, projectionHealth: await c.projectionHealth() });
      expect(verdict.failing.map((f) => f.condition)).toEqual(['healthz_unreachable', 'projection_health_error']);
    } finally {
      await sim.clear('node-down');
    }
    expect((await client().healthz()).ok).toBe(true);
  });
  it('an orphaned run and open failures show in the verdict with their projections', async () => {
    await sim.inject('orphaned-run');
    await sim.inject('open-failures');
    try {
      const c = client();
      const verdict = healthVerdict({ healthz: await c.healthz(), projectionHealth: await c.projectionHealth() });
      const byCondition = new Map(verdict.failing.map((f) => [f.condition, f]));
      expect([...byCondition.keys()].sort()).toEqual(['open_failures', 'open_runs', 'orphaned_runs']);
      expect(byCondition.get('orphaned_runs')?.measured).toMatchObject({ active_replay_jobs: 0 });
      const failures = byCondition.get('open_failures')?.measured as Record<string, number>;
      expect(Object.values(failures).every((n) => n > 0)).toBe(true);
    } finally {
      await sim.clear('open-failures');
      await sim.clear('orphaned-run');
    }
  });
});

describe('rate limits', () => {
  it('an unbudgeted poller earns a 429; the budgeted one holds its call instead', async () => {
    // Both sides count per wall-clock minute: keep the whole test inside one minute.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 55_000) await delay(60_000 - intoMinute + 100);

    const greedy = client({ rateBudget: null });
    const greedyResults = [];
    for (let i = 0; i <= ADMIN_LIMIT; i += 1) greedyResults.push(await greedy.getReplay('replay-1'));
    expect(greedyResults.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      ...Array(ADMIN_LIMIT).fill(ErrorCode.ApiNotFound),
      ErrorCode.ApiRateLimited,
    ]);
    const limited = errorOf(greedyResults[ADMIN_LIMIT] as DgCallResult<unknown>);
    expect(limited.dgMessage).toBe('Rate limit exceeded for admin API scope');

    // Another account has its own server-side budget; the client mirrors the server's limit.
    const poller = client({
      adminToken: 'poller-admin-token',
      rateBudget: new RateBudget({ limits: { admin: ADMIN_LIMIT } }),
    });
    const started = await poller.startReplay({ mode: 'catch_up', projection: 'trace_summary', reason: 'poll test' });
    if (!started.ok) throw started.error;
    const polls: DgCallResult<unknown>[] = [started];
    for (let i = 1; i < ADMIN_LIMIT; i += 1) polls.push(await poller.getReplay(started.data.job_id));
    // The window is spent: the next poll waits for the next minute; the caller gives up after 1 s.
    const held = await poller.getReplay(started.data.job_id, { signal: AbortSignal.timeout(1000) });
    polls.push(held);

    expect(polls.filter((r) => !r.ok && r.error.code === ErrorCode.ApiRateLimited)).toEqual([]);
    expect(polls.slice(0, ADMIN_LIMIT).every((r) => r.ok)).toBe(true);
    const heldError = errorOf(held);
    expect((heldError as ApiTimeoutError).phase).toBe('aborted');
    expect(held.evidence.status).toBeNull();
    expect(held.evidence.rateWaitMs).toBeGreaterThanOrEqual(900);
  });
});
