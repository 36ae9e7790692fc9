import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../../helpers/fake-slack.js';
import { freePort } from '../../helpers/own-postgres.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { PROJECT_ROOT } from '../../helpers/run-to-end.js';
import { type RunWatcher, startRun, startWorld, type World } from '../jobs/fixtures.js';

// `systemctl stop` sends SIGTERM to the process it started. Started as `npm start`, that is npm: the signal must
// reach the bot itself, which stops within 10 s and frees its port, instead of living on as an orphan.

let journal: TempDatabase;
let redis: OwnRedis;
let slack: FakeSlack;
let world: World | undefined;
let watcher: RunWatcher | undefined;

beforeAll(async () => {
  [journal, redis, slack] = await Promise.all([
    createTempDatabase('dgsigterm'),
    startOwnRedis(),
    FakeSlack.start({ token: 'xoxb-sigterm-test' }),
  ]);
  // `npm start` compiles a stale or missing build first; done here so each test times the bot, not the compiler.
  const build = spawn(process.execPath, ['bin/build-if-stale.js'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const [code] = await once(build, 'exit');
  expect(code).toBe(0);
}, 180_000);

afterAll(async () => {
  await watcher?.close();
  await world?.close();
  await slack?.close();
  await redis?.stop();
  await journal?.drop();
});

/** Whether a process with that id still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether nothing listens on the port any more. */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** Resolves with the first log line (JSON) that contains `text`. */
function logLine(child: ChildProcess, text: string): Promise<Record<string, unknown>> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes(text));
      if (line !== undefined) resolve(JSON.parse(line) as Record<string, unknown>);
    });
    // 'close', not 'exit': npm may end first, and the bot's output keeps arriving through the same pipe.
    child.once('close', (code) => reject(new Error(`closed (${code}) before logging "${text}":\n${out}`)));
  });
}

describe('SIGTERM to npm start', () => {
  it('reaches the bot, which closes Slack, the workers and its connections within 10 s and frees its port', async () => {
    const port = await freePort();
    const child = spawn('npm', ['start'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'info',
        PORT: String(port),
        SLACK_BOT_TOKEN: 'xoxb-sigterm-test',
        SLACK_SIGNING_SECRET: 'sigterm-test-secret',
        SLACK_API_URL: slack.apiUrl,
        // DecisionGraph is not needed to start: its API and database are simply not there yet.
        DG_BASE_URL: `http://127.0.0.1:${await freePort()}`,
        DG_API_TOKEN: 'reader-token',
        DG_DATABASE_URL: `postgres://dg_recovery_ro@127.0.0.1:${await freePort()}/decisiongraph`,
        DG_KNOWN_TRACE_ID: 'trace-1',
        DATABASE_URL: journal.url,
        REDIS_URL: redis.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.resume();
    const listening = await logLine(child, 'Slack receiver listening');
    const botPid = listening.pid as number;
    expect(botPid).toBeGreaterThan(0);
    expect(await portFree(port)).toBe(false);

    const stopped = logLine(child, 'shutting down');
    stopped.catch(() => undefined);
    try {
      const signalledAt = performance.now();
      child.kill('SIGTERM');
      await expect.poll(() => alive(botPid), { timeout: 15_000, interval: 50 }).toBe(false);
      const stopMs = performance.now() - signalledAt;
      expect(stopMs).toBeLessThan(10_000);
      expect(await stopped).toMatchObject({ signal: 'SIGTERM', pid: botPid });
      expect(await portFree(port)).toBe(true);
    } finally {
      // A bot the signal did not reach would outlive the test.
      if (alive(botPid)) process.kill(botPid, 'SIGKILL');
    }
  }, 60_000);

  it('lets the steps that are running finish and record their outcomes before the bot goes', async () => {
    // Every DecisionGraph answer takes 1.5 s: the run's first step is still calling when the signal comes.
    world = await startWorld({
      sim: { faults: ['node-down', 'slow'] },
      redisUrl: redis.url,
      databaseUrl: journal.url,
      workers: false,
      runtime: { prefix: 'dgr:' },
    });
    const child = spawn('npm', ['start', '--', '--workers-only'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'info',
        DG_BASE_URL: world.sim.url,
        DG_API_TOKEN: 'dev-reader-token',
        DG_DATABASE_URL: `postgres://dg_recovery_ro@127.0.0.1:${await freePort()}/decisiongraph`,
        DG_KNOWN_TRACE_ID: world.sim.known.traceId,
        DATABASE_URL: journal.url,
        REDIS_URL: redis.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.resume();
    const botPid = (await logLine(child, 'workers started')).pid as number;
    try {
      watcher = await startRun(world.service, 'restart');
      await watcher.until((s) => s.steps.check_healthz?.status === 'running');
      const signalledAt = performance.now();
      child.kill('SIGTERM');
      await expect.poll(() => alive(botPid), { timeout: 15_000, interval: 50 }).toBe(false);
      expect(performance.now() - signalledAt).toBeLessThan(10_000);
      // Every step the bot started has its outcome recorded: none is left running for another worker to re-probe.
      const run = await world.service.get(watcher.runId);
      const started = run?.events.filter((e) => e.type === 'step_started') ?? [];
      expect(started.length).toBeGreaterThan(0);
      expect(Object.values(run?.state.steps ?? {}).filter((st) => st.status === 'running')).toEqual([]);
      expect(run?.state.steps.check_healthz?.status).toBe('passed');
    } finally {
      if (alive(botPid)) process.kill(botPid, 'SIGKILL');
    }
  }, 60_000);
});
