import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './own-postgres.js';

/**
 * A redis-server of the test's own (no persistence, foreground child process), for tests that flush, stop or
 * restart Redis. The shared server on 6379 is never touched.
 */
export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  /** Starts it again on the same port: empty, unless started `persistent`. */
  start(): Promise<void>;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL, sent before this returns (so it can be called where a crash must land), then waits for the exit. */
  kill(): Promise<void>;
  readonly running: boolean;
}

export interface OwnRedisOptions {
  /**
   * Keeps the data across a stop and start (an append-only file in a temporary directory), as a Redis restarted
   * by its service manager does. @defaultValue false: every start is empty
   */
  readonly persistent?: boolean;
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', mkdtempSync(join(tmpdir(), 'own-redis-'))]
    : ['--appendonly', 'no'];

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    await exited;
  };

  const handle: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const proc = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--daemonize', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) {
            proc.stdout?.off('data', onData);
            proc.stdout?.resume();
            resolve();
          }
        };
        proc.stdout?.on('data', onData);
        proc.stderr?.resume();
        proc.once('error', reject);
        proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
      });
      proc.removeAllListeners('exit');
      proc.removeAllListeners('error');
      child = proc;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
  await handle.start();
  return handle;
}
