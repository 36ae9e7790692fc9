import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { HostActionAbortedError } from '../../../src/executors/host-actions/errors.js';
import { runCommand } from '../../../src/executors/host-actions/run-command.js';
import { runHostAction } from '../../../src/executors/host-actions/run-host-action.js';
import { OUTPUT_TAIL_BYTES } from '../../../src/executors/host-actions/types.js';
import { configWith, goneWithin, isRunning, nodeArgv } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dg-host-cmd-'));
const leftovers: number[] = [];
afterAll(() => {
  for (const pid of leftovers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const PRINT_ARGS = 'console.log(JSON.stringify(process.argv.slice(1)))';

describe('command host actions', () => {
  it('hands each parameter to the program as one argv element, untouched by any shell', async () => {
    const config = configWith({
      restore_backup: {
        type: 'command',
        argv: nodeArgv(PRINT_ARGS, '--artifact', '{artifact}', 'prefix-{release}', '{run_id}'),
        timeout_s: 10,
      },
    });
    const result = await runHostAction(
      'restore_backup',
      config,
      { artifact: 'backups/2025-01-01T00:00:00Z@full+v2', release: 'v1.4.2' },
      { runId: 'run-42' },
    );
    expect(result.status).toBe('done');
    expect(result.by).toBe('command');
    if (result.by !== 'command') return;
    expect(JSON.parse(result.evidence.stdoutTail)).toEqual([
      '--artifact',
      'backups/2025-01-01T00:00:00Z@full+v2',
      'prefix-v1.4.2',
      'run-42',
    ]);
    expect(result.evidence.exitCode).toBe(0);
    expect(result.evidence.argv.at(-1)).toBe('run-42');
    expect(result.evidence.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.error).toBeUndefined();
  });

  it('passes spaces, semicolons and $() through /bin/sh -c as data, never as code', async () => {
    // The executor's spawn layer itself: values that validation would refuse still cannot reach a shell parser.
    const marker = join(dir, 'injected');
    const hostile = `a b; touch ${marker}; $(touch ${marker}) \`touch ${marker}\``;
    const outcome = await runCommand({
      argv: ['/bin/sh', '-c', 'printf "%s\\n" "$#" "$1"', 'sh', hostile],
      timeoutMs: 10_000,
      env: { PATH: '/usr/bin:/bin' },
      killGraceMs: 500,
      keepStdout: false,
    });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout.tail()).toBe(`1\n${hostile}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a non-zero exit as failed with the code and the output tail', async () => {
    const config = configWith({
      stop_runtime: {
        type: 'command',
        argv: nodeArgv('console.log("stopping"); console.error("decisiongraph: not running"); process.exit(3)'),
        timeout_s: 10,
      },
    });
    const result = await runHostAction('stop_runtime', config, {}, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionFailed);
    expect(result.error?.message).toContain('exited with code 3');
    if (result.by !== 'command') throw new Error('expected a command result');
    expect(result.evidence.exitCode).toBe(3);
    expect(result.evidence.stdoutTail).toBe('stopping\n');
    expect(result.evidence.stderrTail).toBe('decisiongraph: not running\n');
  });

  it('keeps only the last 4 KB of a large output and counts all of it', async () => {
    const config = configWith({
      preserve_database: {
        type: 'command',
        argv: nodeArgv('process.stdout.write("x".repeat(200000) + "é-END-OF-DUMP")'),
        timeout_s: 10,
      },
    });
    const result = await runHostAction('preserve_database', config, {}, { runId: 'run-1' });
    if (result.by !== 'command') throw new Error('expected a command result');
    expect(result.status).toBe('done');
    expect(Buffer.byteLength(result.evidence.stdoutTail)).toBeLessThanOrEqual(OUTPUT_TAIL_BYTES);
    expect(Buffer.byteLength(result.evidence.stdoutTail)).toBeGreaterThan(OUTPUT_TAIL_BYTES - 4);
    expect(result.evidence.stdoutTail.endsWith('é-END-OF-DUMP')).toBe(true);
    expect(result.evidence.stdoutBytes).toBe(200_000 + Buffer.byteLength('é-END-OF-DUMP'));
  });

  it('scrubs tokens from the output it keeps as evidence', async () => {
    const config = configWith({
      restart_runtime: {
        type: 'command',
        argv: nodeArgv(
          'console.log("curl -H \\"Authorization: Bearer sk-live-123\\" ok"); console.error("token xoxb-1-abc-def")',
        ),
        timeout_s: 10,
      },
    });
    const result = await runHostAction('restart_runtime', config, {}, { runId: 'run-1' });
    const text = JSON.stringify(result);
    expect(text).not.toContain('sk-live-123');
    expect(text).not.toContain('xoxb-1-abc-def');
    expect(text).toContain('[redacted]');
  });

  it('kills the whole process group on timeout, grandchildren included', async () => {
    const script = [
      'const { spawn } = require("node:child_process");',
      'const g = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });',
      'console.log(JSON.stringify({ leader: process.pid, grandchild: g.pid }));',
      'setInterval(() => {}, 1000);',
    ].join('\n');
    const config = configWith({ restore_postgres: { type: 'command', argv: nodeArgv(script), timeout_s: 2 } });
    const result = await runHostAction('restore_postgres', config, {}, { runId: 'run-1', killGraceMs: 2000 });
    if (result.by !== 'command') throw new Error('expected a command result');
    const pids = JSON.parse(result.evidence.stdoutTail) as { leader: number; grandchild: number };
    leftovers.push(pids.leader, pids.grandchild);
    expect(result.status).toBe('timeout');
    expect(result.error?.code).toBe(ErrorCode.HostActionTimeout);
    expect(result.evidence.killedWith).toBe('SIGTERM');
    expect(result.evidence.signal).toBe('SIGTERM');
    expect(result.evidence.durationMs).toBeGreaterThanOrEqual(1900);
    expect(await goneWithin(pids.leader, 5000)).toBe(true);
    expect(await goneWithin(pids.grandchild, 5000)).toBe(true);
  });

  it('escalates to SIGKILL when the program ignores SIGTERM', async () => {
    const script = 'process.on("SIGTERM", () => {}); console.log(process.pid); setInterval(() => {}, 1000);';
    const config = configWith({ stop_writes: { type: 'command', argv: nodeArgv(script), timeout_s: 1.5 } });
    const result = await runHostAction('stop_writes', config, {}, { runId: 'run-1', killGraceMs: 300 });
    if (result.by !== 'command') throw new Error('expected a command result');
    const pid = Number(result.evidence.stdoutTail.trim());
    leftovers.push(pid);
    expect(result.status).toBe('timeout');
    expect(result.evidence.killedWith).toBe('SIGKILL');
    expect(result.evidence.signal).toBe('SIGKILL');
    expect(result.evidence.exitCode).toBeNull();
    expect(await goneWithin(pid, 5000)).toBe(true);
  });

  it('returns when a start script exits, leaving the daemon it started running', async () => {
    const script = [
      'const { spawn } = require("node:child_process");',
      // The daemon inherits stdout, as a careless start script's would; the bot must not wait on it.
      'const d = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: ["ignore", "inherit", "inherit"], detached: true });',
      'd.unref(); console.log(d.pid); process.exit(0);',
    ].join('\n');
    const config = configWith({ start_runtime: { type: 'command', argv: nodeArgv(script), timeout_s: 10 } });
    const result = await runHostAction('start_runtime', config, {}, { runId: 'run-1' });
    if (result.by !== 'command') throw new Error('expected a command result');
    const daemon = Number(result.evidence.stdoutTail.trim());
    leftovers.push(daemon);
    expect(result.status).toBe('done');
    expect(result.evidence.durationMs).toBeLessThan(5000);
    expect(isRunning(daemon)).toBe(true);
    process.kill(daemon, 'SIGKILL');
  });

  it('reports a program that cannot start as failed', async () => {
    const config = configWith({
      switch_release: { type: 'command', argv: ['/nonexistent/bin/deploy', '{release}'], timeout_s: 5 },
    });
    const result = await runHostAction('switch_release', config, { release: 'v1' }, { runId: 'run-1' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe(ErrorCode.HostActionFailed);
    expect(result.error?.message).toContain('ENOENT');
  });

  it('runs the program with a minimal environment: none of the bot secrets, run id, action and key added', async () => {
    const config = configWith(
      { list_backups: { type: 'command', argv: nodeArgv('console.error(JSON.stringify(process.env))'), timeout_s: 5 } },
      { PATH: '/usr/bin:/bin', DG_API_TOKEN: 'reader-secret', SLACK_BOT_TOKEN: 'xoxb-nope' },
    );
    const result = await runHostAction('list_backups', config, {}, { runId: 'run-7', idempotencyKey: 'run-7-list-a2' });
    if (result.by !== 'command') throw new Error('expected a command result');
    const env = JSON.parse(result.evidence.stderrTail) as Record<string, string>;
    expect(env.PATH).toBe('/usr/bin:/bin');
    expect(env.DG_RECOVERY_RUN_ID).toBe('run-7');
    expect(env.DG_RECOVERY_ACTION).toBe('list_backups');
    expect(env.DG_RECOVERY_IDEMPOTENCY_KEY).toBe('run-7-list-a2');
    expect(env.DG_API_TOKEN).toBeUndefined();
    expect(env.SLACK_BOT_TOKEN).toBeUndefined();
  });

  it('kills the process and throws when the caller aborts', async () => {
    const pidFile = join(dir, 'abort.pid');
    const script = `require("node:fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    const config = configWith({ restore_backup: { type: 'command', argv: nodeArgv(script), timeout_s: 30 } });
    const controller = new AbortController();
    const running = runHostAction('restore_backup', config, {}, { runId: 'run-1', signal: controller.signal });
    const pid = Number(await fileContents(pidFile, 10_000));
    leftovers.push(pid);
    controller.abort();
    const err = await running.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostActionAbortedError);
    const aborted = err as HostActionAbortedError;
    expect(aborted.code).toBe(ErrorCode.HostActionAborted);
    expect(aborted.evidence).toMatchObject({ killedWith: 'SIGTERM', signal: 'SIGTERM' });
    expect(await goneWithin(pid, 5000)).toBe(true);
  });

  it('throws without starting anything when the signal is already aborted', async () => {
    const marker = join(dir, 'never');
    const config = configWith({ stop_runtime: { type: 'command', argv: ['/usr/bin/touch', marker], timeout_s: 5 } });
    await expect(
      runHostAction('stop_runtime', config, {}, { runId: 'run-1', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionAborted, evidence: null });
    expect(existsSync(marker)).toBe(false);
  });
});

/** The child announces itself through a file; there is no event to await across processes. */
async function fileContents(path: string, ms: number): Promise<string> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text !== '') return text;
    }
    await delay(20);
  }
  throw new Error(`${path} did not appear within ${ms} ms`);
}
