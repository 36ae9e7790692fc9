import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { envFor, recoveryYaml, STARTER, startWorld, TIME_SCALE, type World } from '../jobs/fixtures.js';

// A run started elsewhere (Slack, another terminal) that nobody runs: `recover` refuses to start another one and
// leaves that one alone; `resume` runs it to its end from the terminal.

let world: World;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  // No workers: the run started below waits for the terminal that resumes it.
  world = await startWorld({ sim: { faults: ['node-down'] }, workers: false });
  dir = await mkdtemp(join(tmpdir(), 'dg-recovery-resume-test-'));
  const recoveryConfig = join(dir, 'recovery.yaml');
  await writeFile(recoveryConfig, recoveryYaml(world.sim), { mode: 0o600 });
  env = {
    ...envFor(world.sim, world.db?.url ?? '', world.config.redisUrl),
    RECOVERY_CONFIG: recoveryConfig,
    SIM_CONTROL_TOKEN: world.sim.controlToken,
    NO_COLOR: '1',
  };
}, 30_000);

afterAll(async () => {
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One `dg-recovery` command in this process, without a terminal on stdin; its output as text. */
async function dgRecovery(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await runCli(
    [...argv, '--summary-dir', dir],
    { stdin: Readable.from([]), stdout, stderr, env },
    {
      runtime: {
        prefix: world.prefix,
        timeScale: TIME_SCALE,
        reconcileIntervalMs: 0,
        // The simulator's database URL is its superuser's (the role check has tests of its own).
        requireReadOnlyRole: false,
      },
    },
  );
  return { code, out, err };
}

describe('a run nobody is running', () => {
  let runId: string;

  beforeAll(async () => {
    const started = await world.service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    runId = started.runId;
  });

  it('recover refuses to start another run, points at resume, and executes nothing of the active one', async () => {
    const r = await dgRecovery('recover', 'upgrade', '--auto', '--as', STARTER.id);
    const run = await world.service.get(runId);
    expect(run?.events.map((e) => e.type)).toEqual(['run_started']);
    expect(world.sim.hostActionCounts().restart ?? 0).toBe(0);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain(`Not started: a run for this deployment is already active: ${runId}`);
    expect(r.out).toContain(`Resume it here with \`dg-recovery resume ${runId}\``);
  }, 30_000);

  it('resume runs it from the terminal to its end', async () => {
    const r = await dgRecovery('resume', runId, '--auto', '--as', STARTER.id);
    expect(r.code, `${r.out}\n${r.err}`).toBe(0);
    expect(r.out).toContain(`Resuming run ${runId} (restart, running`);
    expect(r.out).toMatch(/✓ Restart the DecisionGraph runtime \(restart_runtime\) passed/);
    expect(r.out).toContain('■ Run finished: RECOVERED');
    expect(r.out).toContain(`Summary written to ${join(dir, `dg-recovery-${runId}.md`)}`);
    expect(world.sim.hostActionCounts().restart).toBe(1);
  }, 60_000);

  it('resume of a finished run says how it ended; of an unknown one, that there is none', async () => {
    const finished = await dgRecovery('resume', runId);
    expect(finished.code).toBe(0);
    expect(finished.out).toContain(`Run ${runId} has already finished: recovered.`);
    const unknown = await dgRecovery('resume', 'run-0000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('No run run-0000000000 in the live log or the journal.');
  }, 30_000);
});
