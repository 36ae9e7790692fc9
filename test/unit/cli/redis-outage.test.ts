import { describe, expect, it } from 'vitest';
import { waitingOutOutages } from '../../../src/cli/redis-outage.js';
import type { RedisWatch } from '../../../src/cli/redis-watch.js';
import { RunFollower } from '../../../src/cli/run-follower.js';
import { RunLogUnavailableError } from '../../../src/jobs/run-log/index.js';
import type { CommandOutcome, RunService } from '../../../src/jobs/run-service-port.js';
import type { RunEvent } from '../../../src/runbook/index.js';

// What the terminal does while Redis does not answer: the follower keeps reading instead of ending, and a command
// the person answered is sent again once Redis is back, not asked again.

const started = {
  runId: 'run-1',
  seq: 1,
  at: '2026-03-07T12:00:00.000Z',
  type: 'run_started',
} as unknown as RunEvent;

/** A Redis watch a test switches by hand. */
function manualWatch(): RedisWatch & { up(): void } {
  let available = false;
  let waiters: Array<() => void> = [];
  return {
    get available() {
      return available;
    },
    whenAvailable: (signal) =>
      available || signal?.aborted
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            waiters.push(resolve);
            signal?.addEventListener('abort', () => resolve(), { once: true });
          }),
    reportDown() {
      available = false;
    },
    close() {},
    up() {
      available = true;
      for (const wake of waiters) wake();
      waiters = [];
    },
  };
}

describe('the run follower during a Redis outage', () => {
  it('keeps reading the log after a read finds Redis away, and says so each time', async () => {
    let failures = 2;
    let reported = 0;
    const service: Pick<RunService, 'get' | 'subscribe'> = {
      async get() {
        if (failures-- > 0) throw new RunLogUnavailableError('Connection is closed.');
        return { events: [started], state: {} as never };
      },
      subscribe: async () => async () => undefined,
    };
    const follower = new RunFollower(service, 'run-1', 5, () => reported++);
    await follower.start();
    expect(await follower.next()).toEqual(started);
    expect(reported).toBe(2);
    await follower.close();
  });

  it('without anyone to tell, ends on the first such read, as before', async () => {
    const service: Pick<RunService, 'get' | 'subscribe'> = {
      get: async () => Promise.reject(new RunLogUnavailableError('Connection is closed.')),
      subscribe: async () => async () => undefined,
    };
    const follower = new RunFollower(service, 'run-1', 5);
    await expect(follower.start()).rejects.toMatchObject({ code: 'DG_ERR_RUN_LOG_UNAVAILABLE' });
    await follower.close();
  });
});

describe('commands during a Redis outage', () => {
  it('sends an answer again once Redis is back, instead of refusing it', async () => {
    const redis = manualWatch();
    const sent: string[] = [];
    const decided: CommandOutcome = { ok: true, events: [] };
    const service = {
      async decide(runId: string) {
        sent.push(runId);
        return redis.available ? decided : { ok: false as const, code: 'unavailable', message: 'run log unavailable' };
      },
    } as unknown as RunService;
    const waiting = waitingOutOutages(service, redis, undefined);
    const answer = waiting.decide('run-1', { stepId: 's', optionId: 'o', actor: { id: 'a', via: 'cli' } });
    await expect.poll(() => sent.length).toBe(1);
    redis.up();
    expect(await answer).toBe(decided);
    expect(sent).toEqual(['run-1', 'run-1']);
  });

  it('gives other refusals back at once, and stops waiting when the person leaves', async () => {
    const redis = manualWatch();
    const refusal: CommandOutcome = { ok: false, code: 'not_pending', message: 'already decided' };
    const unavailable: CommandOutcome = { ok: false, code: 'unavailable', message: 'run log unavailable' };
    let calls = 0;
    const service = {
      approve: async () => refusal,
      abort: async () => {
        calls++;
        return unavailable;
      },
    } as unknown as RunService;
    const leave = new AbortController();
    const waiting = waitingOutOutages(service, redis, leave.signal);
    expect(await waiting.approve('run-1', { stepId: 's', actor: { id: 'a', via: 'cli' } })).toBe(refusal);
    const aborting = waiting.abort('run-1', { actor: { id: 'a', via: 'cli' }, reason: 'r' });
    await expect.poll(() => calls).toBe(1);
    leave.abort();
    expect(await aborting).toBe(unavailable);
  });
});
