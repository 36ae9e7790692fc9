import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERRUPTION_OPTIONS } from '../../../src/runbook/index.js';
import { CRASH_SETTLE_MS, type CrashRig, startCrashRig } from './crash-support.js';
import { APPROVER, driveRun, type RunWatcher, startRun } from './fixtures.js';

let rig: CrashRig;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  // One replacement loaded ahead for each of the four workers killed.
  rig = await startCrashRig({ sim: { faults: ['failed-upgrade'] }, spares: 4 });
});

afterAll(async () => {
  await watcher?.close();
  await rig?.close();
});

describe('upgrade run with a worker killed in the middle of each http host action', () => {
  it('stop, restore, switch and start each run once; a cut-off destructive webhook is put to people', async () => {
    const before = rig.world.sim.hostActionCounts();
    const { proxy } = rig;
    proxy.holdOnce('/host/stop', '/host/restore-backup', '/host/start');
    // The release switch is refused twice (its own retry included), so the run pauses; an approver retries, as a
    // destructive action repeated needs one.
    proxy.failNext('/host/switch-release', 503, 2);
    const w = await startRun(rig.world.service, 'upgrade');
    watcher = w;
    const end = await driveRun(
      w,
      {
        // The host did act on the request the crash cut off: the person who looked says so.
        decide: (p) =>
          p.item?.id?.startsWith('a')
            ? { optionId: INTERRUPTION_OPTIONS.done, reason: 'seen done on the host' }
            : undefined,
        onPause: (s) => {
          if (s.pause?.stepId !== 'switch_release') return undefined;
          // The attempt the person asked for is the one killed mid-request.
          proxy.holdOnce('/host/switch-release');
          return rig.world.service.retry(w.runId, { actor: APPROVER });
        },
      },
      CRASH_SETTLE_MS,
    );

    expect(end.outcome?.outcome).toBe('recovered');
    expect(await Promise.all(rig.kills)).toEqual(['SIGKILL', 'SIGKILL', 'SIGKILL', 'SIGKILL']);
    expect(rig.hostActionsSince(before)).toEqual({ stop: 1, restore_backup: 1, switch_release: 1, start: 1 });
    // Every attempt has its own key; a destructive request the crash cut off is not sent again on its own.
    expect(rig.callsTo('/host/switch-release')).toEqual([
      ['a1', false, false],
      ['a2', false, false],
      ['a3', true, false],
    ]);
    expect(rig.callsTo('/host/restore-backup')).toEqual([['a1', true, false]]);
    const asked = w.ofType('decision_requested').filter((e) => e.item?.id?.startsWith('a'));
    expect(asked.map((e) => [e.stepId, e.item?.id])).toEqual([
      ['restore_backup', 'a1'],
      ['switch_release', 'a3'],
    ]);
    // Stopping and starting are re-checked on the node instead: no second request was needed.
    expect(rig.callsTo('/host/stop')).toEqual([['a1', true, false]]);
    expect(rig.callsTo('/host/start')).toEqual([['a1', true, false]]);
    for (const stepId of ['stop_runtime', 'start_runtime']) {
      expect(w.ofType('step_rechecked').find((e) => e.stepId === stepId)?.alreadyDone).toBe(true);
    }
    expect(end.steps.switch_release).toMatchObject({ status: 'passed', attempt: 3 });
  }, 60_000);
});
