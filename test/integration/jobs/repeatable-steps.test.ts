import diagnostics from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunLogStore } from '../../../src/jobs/run-log/index.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { RunWatcher, STARTER, startWorld, testLogger, type World, waitUntil } from './fixtures.js';

// A probe, a gate or a read records its start together with its outcome, in one compare-and-append after the call.
// When that append loses its race to another writer and the run still wants the step, the measurement already
// taken is recorded on the fresh log: one delivery calls DecisionGraph once.

const SLOW_MS = 400;

let world: World;
/** `x-request-id` of every healthz request undici created, in order. */
const healthzRequests: string[] = [];

function onRequestCreate(message: unknown): void {
  const request = (message as { request?: { path?: unknown; headers?: unknown } }).request;
  if (request?.path !== '/api/healthz') return;
  const headers = Array.isArray(request.headers) ? request.headers.map(String) : [];
  const at = headers.findIndex((h) => h.toLowerCase() === 'x-request-id');
  healthzRequests.push(at >= 0 ? (headers[at + 1] ?? '') : '');
}

beforeAll(async () => {
  diagnostics.subscribe('undici:request:create', onRequestCreate);
  world = await startWorld({
    sim: { slowLatencyMs: SLOW_MS },
    // The start of a long call is not announced in this test: the race is with another writer's start.
    runtime: { worker: { announceStartAfterMs: 60_000 } },
  });
});

afterAll(async () => {
  diagnostics.unsubscribe('undici:request:create', onRequestCreate);
  await world?.close();
});

describe('a repeatable step whose append loses its race', () => {
  it('records the measurement it took on the fresh log, with the other start kept and no second call', async () => {
    // Postgres down: the run stops at a decision after its two probes, so check_healthz is the only healthz reader.
    await world.sim.inject('postgres-down');
    await world.sim.inject('slow');
    const store = new RunLogStore({ redis: world.redis, prefix: world.prefix, logger: testLogger() });
    const started = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const watcher = await RunWatcher.watch(world.service, started.runId);
    try {
      // check_healthz is calling (the answer is SLOW_MS away) and nothing of it is in the log yet.
      await waitUntil(() => healthzRequests.length === 1, 'the healthz request');
      const before = await store.read<RunEvent>(started.runId);
      expect(before.some((e) => e.type === 'step_started')).toBe(false);

      // Another writer records the attempt's start meanwhile (a second delivery announcing its long call).
      const seq = (before.at(-1)?.seq ?? 0) + 1;
      const otherStart = {
        type: 'step_started',
        stepId: 'check_healthz',
        attempt: 1,
        runId: started.runId,
        seq,
        at: new Date().toISOString(),
      };
      expect(await store.append(started.runId, seq, [otherStart])).toMatchObject({ ok: true });

      const state = await watcher.until((s) => s.status === 'waiting_decision');
      expect(state.pendingDecision?.stepId).toBe('postgres_down');
      const ofStep = watcher.events.filter((e) => 'stepId' in e && e.stepId === 'check_healthz');
      expect(ofStep.map((e) => e.type)).toEqual(['step_started', 'step_passed']);
      expect(ofStep[0]?.seq).toBe(seq);
      // The outcome is the measurement of the one request made before the race, not of a second call.
      expect(healthzRequests).toHaveLength(1);
      const passed = ofStep[1] as Extract<RunEvent, { type: 'step_passed' }>;
      const requestIds = passed.evidence.map((e) => (e.source as { requestId?: string }).requestId);
      expect(requestIds).toContain(healthzRequests[0]);
    } finally {
      await watcher.close();
      await world.service.abort(started.runId, { actor: STARTER, reason: 'test over' });
      await world.sim.clear();
    }
  });
});
