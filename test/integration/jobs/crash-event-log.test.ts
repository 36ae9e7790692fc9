import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPTION_OPTIONS } from '../../../src/runbook/index.js';
import { CRASH_SETTLE_MS, type CrashRig, startCrashRig } from './crash-support.js';
import { driveRun, type RunWatcher, startRun } from './fixtures.js';

let rig: CrashRig;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  // One replacement loaded ahead for each of the four workers killed.
  rig = await startCrashRig({ sim: { faults: ['hash-drift'] }, spares: 4 });
});

afterAll(async () => {
  await watcher?.close();
  await rig?.close();
});

describe('event-log run with a worker killed in the middle of each http host action', () => {
  it('each action runs once: the destructive ones are put to people, the restart is resent; it recovers', async () => {
    const before = rig.world.sim.hostActionCounts();
    const paths = ['/host/stop-writes', '/host/preserve-database', '/host/restore-backup', '/host/restart'];
    rig.proxy.holdOnce(...paths);
    watcher = await startRun(rig.world.service, 'event-log');
    const end = await driveRun(
      watcher,
      {
        // The backup taken before the damage, not the copy of the broken database the run just made.
        decide: (p) => {
          if (p.stepId === 'choose_backup') {
            return { optionId: p.options.find((o) => o.label.startsWith('scheduled'))?.id ?? 'abort' };
          }
          // The host did act: the person who looked says so.
          if (p.item?.id === 'a1') return { optionId: INTERRUPTION_OPTIONS.done, reason: 'seen done on the host' };
          return undefined;
        },
      },
      CRASH_SETTLE_MS,
    );

    expect(end.outcome?.outcome).toBe('recovered');
    expect(await Promise.all(rig.kills)).toEqual(paths.map(() => 'SIGKILL'));
    expect(rig.hostActionsSince(before)).toEqual({
      stop_writes: 1,
      preserve_database: 1,
      restore_backup: 1,
      restart: 1,
    });
    // A destructive webhook cut off by the crash is never sent again on its own: people said it finished.
    for (const path of paths.slice(0, 3)) expect(rig.callsTo(path)).toEqual([['a1', true, false]]);
    const asked = watcher.ofType('decision_requested').filter((e) => e.item?.id === 'a1');
    expect(asked.map((e) => e.stepId)).toEqual(['stop_writes', 'preserve_database', 'restore_backup']);
    // The restart is not destructive: the job taken over sent it again under the same key, answered from memory.
    expect(rig.callsTo('/host/restart')).toEqual([
      ['a1', true, false],
      ['a1', false, true],
    ]);
    // Taking a job over is not a new attempt.
    expect(watcher.ofType('step_started').every((e) => e.attempt === 1)).toBe(true);
    expect(end.steps.verify_integrity?.status).toBe('passed');
  }, 60_000);
});
