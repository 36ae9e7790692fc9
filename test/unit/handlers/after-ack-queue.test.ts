import { describe, expect, it, vi } from 'vitest';
import { createAfterAckQueue } from '../../../src/handlers/after-ack-queue.js';
import { type DgCommandArgs, handleDgCommand } from '../../../src/handlers/dg-command.js';
import { CHANNEL, depsWith, fakeService, OPERATOR, Timeline } from './fakes.js';

function deferred<T = void>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('after-ack queue', () => {
  it('runs at most `concurrency` tasks at once, in arrival order, and settles as each task does', async () => {
    const queue = createAfterAckQueue({ concurrency: 2, slotMs: 10_000 });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const results = gates.map((g, i) =>
      queue.run(async () => {
        started.push(i);
        await g.promise;
        return i * 10;
      }),
    );
    await turn();
    expect(started).toEqual([0, 1]);
    expect(queue.size).toEqual({ waiting: 1, running: 2 });
    gates[1]?.resolve();
    expect(await results[1]).toBe(10);
    await turn();
    expect(started).toEqual([0, 1, 2]);
    gates[0]?.resolve();
    gates[2]?.resolve();
    expect(await Promise.all(results)).toEqual([0, 10, 20]);
    expect(queue.size).toEqual({ waiting: 0, running: 0 });
  });

  it('starts nothing in the turn a task is queued: the loop first takes in what arrived meanwhile', async () => {
    const queue = createAfterAckQueue();
    const ran = vi.fn(async () => undefined);
    const done = queue.run(ran);
    await Promise.resolve();
    expect(ran).not.toHaveBeenCalled();
    await done;
    expect(ran).toHaveBeenCalledTimes(1);
  });

  it('puts urgent tasks (dialogs to open) ahead of the waiting ones', async () => {
    const queue = createAfterAckQueue({ concurrency: 1, slotMs: 10_000 });
    const order: string[] = [];
    const first = deferred();
    const blocker = queue.run(async () => {
      order.push('first');
      await first.promise;
    });
    await turn();
    const later = queue.run(async () => {
      order.push('later');
    });
    const dialog = queue.run(
      async () => {
        order.push('dialog');
      },
      { urgent: true },
    );
    first.resolve();
    await Promise.all([blocker, later, dialog]);
    expect(order).toEqual(['first', 'dialog', 'later']);
  });

  it('lets a task that waits too long give up its slot, so a slow Slack holds nobody else back', async () => {
    const queue = createAfterAckQueue({ concurrency: 1, slotMs: 20 });
    const slow = deferred();
    const slowDone = queue.run(() => slow.promise);
    const quick = await queue.run(async () => 'quick');
    expect(quick).toBe('quick');
    slow.resolve();
    await slowDone;
    expect(queue.size).toEqual({ waiting: 0, running: 0 });
  });

  it('rejects with the task’s error, thrown or returned, and goes on with the next', async () => {
    const queue = createAfterAckQueue({ concurrency: 1 });
    await expect(
      queue.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(queue.run(async () => Promise.reject(new Error('async')))).rejects.toThrow('async');
    expect(await queue.run(async () => 'next')).toBe('next');
  });
});

describe('/dg under a burst', () => {
  it('acknowledges every command of a burst before the first one’s work starts, and still answers each', async () => {
    const { service } = fakeService();
    const timeline = new Timeline();
    service.start.mockImplementation(async () => {
      timeline.mark('start');
      return { ok: false as const, code: 'run_active', message: 'a run is already active' };
    });
    const { deps } = depsWith(service, { afterAck: createAfterAckQueue({ concurrency: 2 }) });
    const answered: string[] = [];
    const burst = Array.from({ length: 8 }, (_, i) => {
      const a: DgCommandArgs = {
        command: { text: 'recover restart', user_id: OPERATOR, channel_id: CHANNEL },
        ack: async () => timeline.mark('ack'),
        respond: async (m) => {
          answered.push(`${i}:${String(m.text)}`);
        },
      };
      return handleDgCommand(a, deps);
    });
    await Promise.all(burst);
    expect(timeline.entries.slice(0, 8)).toEqual(Array(8).fill('ack'));
    expect(timeline.entries.filter((e) => e === 'start')).toHaveLength(8);
    expect(answered).toHaveLength(8);
    expect(answered.every((a) => a.includes('already active'))).toBe(true);
  });
});
