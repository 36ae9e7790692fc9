import { watch } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseRecoveryConfig, type RecoveryConfig } from '../../../src/config/recovery-config.js';
import {
  APPROVER,
  type RunWatcher,
  recoveryYaml,
  STARTER,
  startRun,
  startWorld,
  type World,
  workersFor,
} from './fixtures.js';

// A host action run as a command, cut off when its worker shuts down: the next delivery must not run it again on
// its own, since it may have half run. People are asked, and the run goes on from their answer.

let world: World;
let dir: string;
let marks: string;
let recovery: RecoveryConfig;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  world = await startWorld({ sim: { faults: ['hash-drift'] }, workers: false });
  dir = await mkdtemp(join(tmpdir(), 'dgr-interrupted-'));
  marks = join(dir, 'stop-writes.log');
  // Stopping writes "starts" (leaves a mark) and then takes far longer than the worker is given to finish.
  const script = "require('node:fs').appendFileSync(process.argv[1], 'ran\\n'); setTimeout(() => {}, 60000)";
  const yaml = parse(recoveryYaml(world.sim)) as { actions: Record<string, unknown> };
  yaml.actions.stop_writes = { type: 'command', argv: [process.execPath, '-e', script, marks], timeout_s: 120 };
  recovery = parseRecoveryConfig(stringify(yaml), 'interrupted.yaml', { SIM_CONTROL_TOKEN: world.sim.controlToken });
});

afterAll(async () => {
  await watcher?.close();
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves once the command has left its mark, i.e. it is running on the host. */
function commandStarted(): Promise<void> {
  return new Promise((resolve) => {
    const check = () =>
      readFile(marks, 'utf8')
        .then((text) => {
          if (text !== '') {
            marker.close();
            resolve();
          }
        })
        .catch(() => undefined);
    const marker = watch(dir, check);
    void check();
  });
}

function workers() {
  return workersFor(world, recovery, {
    worker: { closeTimeoutMs: 200, lockDurationMs: 1000, stalledIntervalMs: 500 },
    journalWriter: { sweepIntervalMs: 0, lockDurationMs: 1000, stalledIntervalMs: 500 },
  });
}

describe('a command host action cut off mid-run', () => {
  it('is put to people instead of being run again, and the run goes on once they say it finished', async () => {
    const first = await workers();
    await first.startWorkers();
    const w = await startRun(world.service, 'event-log');
    watcher = w;
    const asked = await w.until((s) => s.pendingApproval?.stepId === 'approve_stop_writes');
    const approved = await world.service.approve(w.runId, {
      stepId: 'approve_stop_writes',
      actor: APPROVER,
      fingerprint: asked.pendingApproval?.fingerprint as string,
    });
    expect(approved.ok).toBe(true);
    // The command is under way; the worker is shut down and cuts it off.
    await commandStarted();
    await first.close();
    expect(w.state?.steps.stop_writes?.status).toBe('running');

    const second = await workers();
    try {
      await second.startWorkers();
      const waiting = await w.until((s) => s.status === 'waiting_decision');
      expect(w.ofType('step_started').filter((e) => e.stepId === 'stop_writes')).toMatchObject([
        { attempt: 1, actionMode: 'command' },
      ]);
      expect(w.ofType('step_interrupted')).toMatchObject([
        { stepId: 'stop_writes', attempt: 1, actionMode: 'command', next: 'ask' },
      ]);
      expect(waiting.pendingDecision).toMatchObject({ stepId: 'stop_writes', item: { id: 'a1' } });
      expect(waiting.pendingDecision?.options.map((o) => o.id)).toEqual(['done', 'run_again', 'abort']);
      expect(await readFile(marks, 'utf8')).toBe('ran\n');

      const done = await world.service.decide(w.runId, {
        stepId: 'stop_writes',
        itemId: 'a1',
        optionId: 'done',
        reason: 'integrations paused by hand',
        actor: STARTER,
      });
      expect(done.ok).toBe(true);
      const next = await w.until((s) => s.pendingApproval?.stepId === 'approve_preserve');
      expect(next.steps.stop_writes).toMatchObject({ status: 'passed', outputs: { markedDone: true } });
      expect(await readFile(marks, 'utf8')).toBe('ran\n');
    } finally {
      await world.service.abort(w.runId, { actor: STARTER, reason: 'drill over' });
      await second.close();
    }
  });
});
