import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';
import { PROJECT_ROOT } from '../../helpers/run-to-end.js';
import { type WatchedChild, watchChild } from '../../helpers/watched-child.js';

// The terminal is the only worker when Slack is down. Redis, where the run lives, goes away for 10 s in the middle
// of a run (restarted by its service manager, data kept): the terminal says so once, waits, goes on when Redis is
// back, finishes the run and exits.

const OUTAGE_MS = 10_000;

let redis: OwnRedis;
let outDir: string;
let terminal: WatchedChild | undefined;

beforeAll(async () => {
  redis = await startOwnRedis({ persistent: true });
  outDir = await mkdtemp(join(tmpdir(), 'dg-recovery-outage-test-'));
});

afterAll(async () => {
  // A terminal that never ended (the test timed out) is interrupted: the demo then drops what it created.
  if (terminal && terminal.child.exitCode === null && terminal.child.signalCode === null) {
    terminal.child.kill('SIGINT');
    await terminal.exited;
  }
  await redis?.stop();
  await rm(outDir, { recursive: true, force: true });
});

/** `npm run demo -- restart --auto`, run with node directly so the test sees the process itself end. */
function startTerminal(): WatchedChild {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'demo/main.ts', 'restart', '--auto', '--redis-url', redis.url, '--summary-dir', outDir],
    { cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return watchChild(child);
}

/** Starts the terminal and stops Redis mid-run (the restart done, the waits still to come), once it says so. */
async function startTerminalThenStopRedis(): Promise<WatchedChild> {
  const started = startTerminal();
  terminal = started;
  await started.logged('Restart the DecisionGraph runtime (restart_runtime) passed');
  await redis.stop();
  await started.logged('is not answering; waiting for it.');
  return started;
}

describe('the terminal during a Redis outage', () => {
  it('says so once, waits 10 s for Redis, finishes the run once it is back, and exits', async () => {
    terminal = await startTerminalThenStopRedis();
    try {
      // The outage itself is the thing under test: it lasts its 10 s whatever the terminal does meanwhile.
      await delay(OUTAGE_MS);
      await redis.start();
      await terminal.logged('Redis is back after');
      await terminal.logged('Demo finished');
      const finishedAt = performance.now();
      const code = await terminal.exited;
      const exitMs = performance.now() - finishedAt;

      const out = terminal.stdout;
      expect(code, `${out}\n${terminal.stderr}`).toBe(0);
      expect(out).toContain('■ Run finished: RECOVERED');
      expect(out).toContain('Host actions the simulator performed: restart ×1');
      // One line when Redis went, one when it came back; no reconnect warnings in between.
      expect(out.match(/is not answering; waiting for it/g)).toHaveLength(1);
      expect(out.match(/Redis is back after [^;\n]+; following the run again/g)).toHaveLength(1);
      expect(terminal.stderr).not.toContain('"level":40');
      expect(terminal.stderr).not.toContain('run log unavailable');
      // Nothing (a BullMQ lock extender, a reconnect timer) keeps the process alive once the demo is done; after
      // its last line it only drops its databases and Redis keys.
      expect(exitMs).toBeLessThan(10_000);
    } finally {
      await redis.start();
    }
  }, 120_000);

  it('leaves at Ctrl-C while Redis is still away, and the process ends within seconds', async () => {
    terminal = await startTerminalThenStopRedis();
    try {
      const interruptedAt = performance.now();
      terminal.child.kill('SIGINT');
      const code = await terminal.exited;
      const exitMs = performance.now() - interruptedAt;
      expect(terminal.stdout, terminal.stderr).toMatch(/Left run run-[0-9a-f]+ .*; it stays recorded and active\./);
      expect(code).toBe(1);
      // Closing gives up on what Redis cannot answer after 5 s, then the demo drops its databases; nothing left
      // behind (a lock extender, a reconnect timer) keeps the process up.
      expect(exitMs).toBeLessThan(20_000);
    } finally {
      await redis.start();
    }
  }, 120_000);
});
