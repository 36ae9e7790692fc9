import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where initdb and pg_ctl live; Debian's layout by default. */
const PG_BIN = process.env.TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * A Postgres server of the test's own, for tests that stop and start the database. The shared server on 5432 is
 * never touched. Postgres refuses to run as root, so as root the binaries run as the `postgres` OS user.
 */
export interface OwnPostgres {
  readonly port: number;
  /** Superuser `postgres`, trust auth, over TCP on 127.0.0.1. */
  url(database?: string): string;
  /** Starts the server again on the same port and data directory (crash recovery after an immediate stop). */
  start(): Promise<void>;
  /** `pg_ctl stop -m immediate`: like a crash, connections are cut at once. */
  stop(): Promise<void>;
  readonly running: boolean;
  /** Stops the server if running and deletes its directory. */
  destroy(): Promise<void>;
}

/** Where the kernel hands out ports for `listen(0)` and outgoing connections; 32768 on Linux by default. */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function listensOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A port nothing listens on, for a server the test starts (and may stop and start again) or for a dead address.
 * It is picked below the kernel's ephemeral range: a port from that range is handed out again to the next
 * `listen(0)` or outgoing connection anywhere on the machine, which could take it while our server is down or
 * answer on an address meant to be dead.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  const low = 10_000;
  if (high - low >= 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await listensOn(low + randomInt(high - low));
      if (port !== undefined) return port;
    }
  }
  const port = await listensOn(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return port;
}

function asPostgres(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = join(PG_BIN, file);
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: 60_000 });
  return run(bin, args, { timeout: 60_000 });
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'dg-own-pg-'));
  const dataDir = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const port = await freePort();
  let running = false;
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');

  const handle: OwnPostgres = {
    port,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    get running() {
      return running;
    },
    async start() {
      await asPostgres('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
      running = true;
    },
    async stop() {
      await asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async destroy() {
      if (running) await handle.stop().catch(() => undefined);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await handle.start();
  } catch (error) {
    await handle.destroy();
    throw error;
  }
  return handle;
}
