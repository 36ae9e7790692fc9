import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunExportSchema } from '../../../src/projections/summary/index.js';
import { ADMIN_URL } from '../../helpers/pg.js';
import { type Finished, runToEnd } from '../../helpers/run-to-end.js';

// The demo as a person runs it: a child process against the machine's Redis and Postgres, the simulator started
// inside it with the scenario's fault, answers given automatically because stdin is not a terminal.

let outDir: string;

function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Finished> {
  return runToEnd(command, args, { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...env });
}

const demo = (...args: string[]) => run('npx', ['tsx', 'demo/main.ts', ...args, '--summary-dir', outDir]);
/** The demo with no --summary-dir, its temporary directory pointed at `outDir`. */
const demoInTemp = (...args: string[]) => run('npx', ['tsx', 'demo/main.ts', ...args], { TMPDIR: outDir });

/** Whether a role of that name still exists on the server. */
async function roleExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function summaryFileOf(output: string, dir = outDir): Promise<{ runId: string; text: string }> {
  const runId = /^Run (run-[a-z0-9]+):/m.exec(output)?.[1];
  expect(runId, output).toBeDefined();
  const files = await readdir(dir);
  expect(files).toContain(`dg-recovery-${runId}.md`);
  // The run export lies beside the draft, as Slack would get it: it parses and names the same run.
  const runExport = RunExportSchema.parse(JSON.parse(await readFile(join(dir, `dg-recovery-${runId}.json`), 'utf8')));
  expect(runExport.runId).toBe(runId);
  return { runId: runId as string, text: await readFile(join(dir, `dg-recovery-${runId}.md`), 'utf8') };
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'dg-recovery-demo-test-'));
});

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('restart: brings the node back through the control API, writes the summary in a folder of its own and prints its path', async () => {
    const r = await demoInTemp('restart', '--auto');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = r.stdout;
    // Live step lines with their evidence, as they happened.
    expect(out).toMatch(/✓ Confirm the symptom: is healthz reachable\? \(check_healthz\) passed/);
    expect(out).toContain('✗ GET /api/healthz: no answer (DG_ERR_API_UNREACHABLE) (expected 200)');
    expect(out).toMatch(/✓ Restart the DecisionGraph runtime \(restart_runtime\) passed/);
    expect(out).toContain('host action restart_runtime → 200');
    expect(out).toContain('■ Run finished: RECOVERED');
    expect(out).toContain('Host actions the simulator performed: restart ×1');
    // The probes read with a SELECT-only role of the demo's own (the bot refuses any other), dropped at the end.
    const role = /as (dgrdemo_ro_[0-9a-f]+), a SELECT-only role/.exec(out)?.[1];
    expect(role, out).toBeDefined();
    expect(r.stderr).not.toContain('refusing to run');
    expect(await roleExists(role as string)).toBe(false);

    const ownDir = join(outDir, 'dg-recovery-demo');
    const { runId, text } = await summaryFileOf(out, ownDir);
    expect(text).toMatch(/^# Postmortem draft: App node restart or host reboot — recovered\n/);
    expect(text).toContain(`Run: \`${runId}\``);
    expect(text).toContain('Started by: `demo-operator` via the terminal');
    expect(text).toContain('**Restart the DecisionGraph runtime** (`restart_runtime`, safe_write): done, webhook');
    expect(text).toContain('The recovery checklist passed');
    // The terminal shows where the summary is, not its hundreds of lines.
    expect(out).not.toContain('## Details');
    expect(out).toContain(`Summary written to ${join(ownDir, `dg-recovery-${runId}.md`)}`);
  }, 45_000);

  it('projections: decides the orphaned run and the replay the recommended way, with reasons, and recovers', async () => {
    const r = await demo('projections', '--auto');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = r.stdout;
    expect(out).toContain('✗ context_graph pending_events: 3 (expected 0)');
    expect(out).toMatch(/\? Decision: Decide about each orphaned replay run \(orphan_runs\) — replay-\d+/);
    expect(out).toContain('⇒ demo-operator chose "Retry: start a fresh catch_up": auto: recommended option');
    expect(out).toContain('⇒ demo-operator chose "catch_up (transient)": auto: recommended option');
    expect(out).toMatch(/✓ Wait until the replay run completes and pending_events is 0 \(poll_replay\) passed/);
    expect(out).toContain('■ Run finished: RECOVERED');

    const { text } = await summaryFileOf(out);
    expect(text).toMatch(/^# Postmortem draft: Projection corruption or stale reads — recovered\n/);
    expect(text).toContain('## Decisions');
    expect(text).toContain('"catch_up (transient)" by `demo-operator`');
    expect(text).toContain('Reason: auto: recommended option');
    expect(text).toContain('The recovery checklist passed');
  }, 45_000);

  it('upgrade with variants: decides the orphan the backup brought back, catches up, and recovers', async () => {
    const r = await demo('upgrade', '--auto', '--variant', 'orphaned-runs', '--variant', 'lagging-restore');
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = r.stdout;
    expect(out).toContain('Variant orphaned-runs: the backups hold a replay run a crash left running');
    expect(out).toMatch(/\? Decision: Decide about each orphaned replay run \(orphan_runs\) — replay-\d+/);
    expect(out).toContain('? Decision: Projections are behind and not moving (catch_up_decision)');
    expect(out).toMatch(/✓ Re-run the smoke checks \(smoke_after\) passed/);
    expect(out).toContain('■ Run finished: RECOVERED');
  }, 60_000);

  it('refuses an unknown variant with the valid ones and exit status 2, before starting anything', async () => {
    const r = await run('npx', ['tsx', 'demo/main.ts', 'upgrade', '--variant', 'slow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown variant "slow"; valid variants: slow-replays, lagging-restore');
    expect(r.stdout).not.toContain('Starting the DecisionGraph simulator');
  }, 30_000);

  it('refuses an unknown scenario with the closest one and exit status 2, before starting anything', async () => {
    const [viaDemo, viaBin] = await Promise.all([
      run('npx', ['tsx', 'demo/main.ts', 'projetcions']),
      run('node', ['bin/dg-recovery.js', 'recover', 'restrat']),
    ]);
    expect(viaDemo.code).toBe(2);
    expect(viaDemo.stderr).toContain('did you mean "projections"?');
    expect(viaDemo.stdout).not.toContain('Starting the DecisionGraph simulator');
    expect(viaBin.code).toBe(2);
    expect(viaBin.stderr).toContain('unknown scenario "restrat"; did you mean "restart"?');
  }, 30_000);
});
