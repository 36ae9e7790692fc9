import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
  /** Serves TLS only (`rediss://`), with these PEM files; clients need no certificate of their own. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
  /** Runs as a sentinel watching the master on this port under this name (its url is then `redis://`). */
  readonly sentinelOf?: { readonly port: number; readonly name: string };
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const persistence = options.sentinelOf
    ? []
    : options.persistent
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

  const role = roleArgs(port, options);
  const handle: OwnRedis = {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const proc = spawn('redis-server', [...role.args, '--bind', '127.0.0.1', ...persistence, '--daemonize', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes(role.ready)) {
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

/** The arguments for a plain, TLS-only or sentinel server, and the log line that says it is ready. */
function roleArgs(port: number, options: OwnRedisOptions): { args: string[]; ready: string } {
  if (options.sentinelOf) {
    // A sentinel rewrites its configuration file, so it gets one of its own.
    const file = join(mkdtempSync(join(tmpdir(), 'own-sentinel-')), 'sentinel.conf');
    const { port: master, name } = options.sentinelOf;
    writeFileSync(file, `port ${port}\nsentinel monitor ${name} 127.0.0.1 ${master} 1\n`);
    return { args: [file, '--sentinel'], ready: `+monitor master ${name}` };
  }
  const save = ['--save', ''];
  if (options.tls) {
    const { certFile, keyFile, caFile } = options.tls;
    const tls = ['--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', caFile];
    return {
      args: ['--port', '0', '--tls-port', String(port), ...tls, '--tls-auth-clients', 'no', ...save],
      ready: 'Ready to accept connections',
    };
  }
  return { args: ['--port', String(port), ...save], ready: 'Ready to accept connections' };
}
