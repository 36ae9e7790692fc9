import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseRecoveryConfig } from '../../../src/config/recovery-config.js';
import type { RecoveryRuntime } from '../../../src/jobs/index.js';
import { Journal } from '../../../src/store/index.js';
import * as jobs from './fixtures.js';

// A restore tool that prints bytes Postgres refuses in text and jsonb: a NUL, and emoji placed so that a cut by
// UTF-16 units would leave half a surrogate pair. The restore itself works; the run must record it as passed, in
// the live log and in the journal, and never ask whether to run it again.

let world: jobs.World;
let workers: RecoveryRuntime;
let journal: Journal;
let watcher: jobs.RunWatcher | undefined;

// Restores through the simulator's control API, then prints the awkward output and exits 0.
const RESTORE_SCRIPT = `
const [url, token, artifact] = process.argv.slice(1);
fetch(url, {
  method: 'POST',
  headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
  body: JSON.stringify({ artifact }),
}).then(async (res) => {
  if (!res.ok) { console.error('restore refused', res.status, await res.text()); process.exit(2); }
  // The line lengths put the 600-character cut of the shown tail on the second half of an emoji.
  process.stdout.write('x' + '\\u{1F600}'.repeat(400) + '!\\n');
  process.stdout.write('pg_restore: restored\\u0000 done.\\n');
  process.stderr.write('warning:\\u0000 nothing serious\\n');
});
`;

beforeAll(async () => {
  world = await jobs.startWorld({ sim: { faults: ['hash-drift'] }, workers: false });
  const yaml = parse(jobs.recoveryYaml(world.sim)) as { actions: Record<string, unknown> };
  yaml.actions.restore_backup = {
    type: 'command',
    argv: [
      process.execPath,
      '-e',
      RESTORE_SCRIPT,
      `${world.sim.controlUrl}/host/restore-backup`,
      world.sim.controlToken,
      '{artifact}',
    ],
    timeout_s: 30,
  };
  const recovery = parseRecoveryConfig(stringify(yaml), 'output-bytes.yaml', {
    SIM_CONTROL_TOKEN: world.sim.controlToken,
  });
  workers = await jobs.workersFor(world, recovery);
  await workers.startWorkers();
  journal = new Journal({ connectionString: world.config.databaseUrl });
});

afterAll(async () => {
  await watcher?.close();
  await journal?.close();
  await workers?.close();
  await world?.close();
});

describe('a host command whose output Postgres would refuse', () => {
  it('records the restore as passed with its exit code and a cleaned tail, in Redis and in the journal', async () => {
    watcher = await jobs.startRun(world.service, 'event-log');
    const end = await jobs.driveRun(watcher, jobs.restoreBackupLabelled('scheduled'));
    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restore_backup).toBe(1);
    expect(watcher.ofType('step_interrupted')).toEqual([]);
    expect(watcher.ofType('decision_requested').filter((e) => e.stepId === 'restore_backup')).toEqual([]);
    const restored = end.steps.restore_backup;
    expect(restored).toMatchObject({ status: 'passed', attempt: 1, outputs: { exitCode: 0 } });
    const detail = restored?.evidence.find((e) => e.label === 'restore_backup exit code')?.detail ?? '';
    expect(detail).toContain('pg_restore: restored\u2400 done.');
    expect(detail).toContain('\u2400 nothing serious');
    expect(detail).not.toContain('\u0000');
    expect(detail).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(end.approvals.map((a) => a.by.id)).toEqual([jobs.APPROVER.id, jobs.APPROVER.id, jobs.APPROVER.id]);

    // The journal took every event, the restore's result among them.
    await workers.drainJournal(10_000);
    const loaded = await journal.loadRun(watcher.runId);
    expect(loaded?.run.lastSeq).toBe(end.lastSeq);
    expect(loaded?.run.outcome).toBe('recovered');
    const passed = loaded?.events.find((e) => e.type === 'step_passed' && e.stepId === 'restore_backup');
    expect(passed).toMatchObject({ attempt: 1, outputs: { exitCode: 0 } });
  });
});
