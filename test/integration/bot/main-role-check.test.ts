import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/own-postgres.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';
import { createTempDatabase, type TempDatabase } from '../../helpers/pg.js';
import { createProbeRolesDatabase, type ProbeRolesDatabase } from '../../helpers/probe-roles.js';
import { type WatchedChild, watchChild } from '../../helpers/watched-child.js';

// Safety rule 1 at `npm start`: the bot refuses a DecisionGraph database role that can write, and starts (with a
// warning) when that database is down, as it is in the scenario it exists for. Workers only: no Slack needed.

const ROOT = resolve(import.meta.dirname, '../../..');

let roles: ProbeRolesDatabase;
let journal: TempDatabase;
let redis: OwnRedis;

beforeAll(async () => {
  [roles, journal, redis] = await Promise.all([
    createProbeRolesDatabase('dgbotro'),
    createTempDatabase('dgbotro_journal'),
    startOwnRedis(),
  ]);
});

afterAll(async () => {
  await redis?.stop();
  await journal?.drop();
  await roles?.close();
});

function startBot(dgDatabaseUrl: string, deadApiPort: number): WatchedChild {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bot/main.ts', '--workers-only'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'info',
      DG_BASE_URL: `http://127.0.0.1:${deadApiPort}`,
      DG_API_TOKEN: 'reader-token',
      DG_DATABASE_URL: dgDatabaseUrl,
      DG_KNOWN_TRACE_ID: 'trace-1',
      DATABASE_URL: journal.url,
      REDIS_URL: redis.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchChild(child);
}

describe('npm start and the DecisionGraph database role', () => {
  it('refuses a role that can write to dg_event_log with the how-to, exits 1, and starts nothing', async () => {
    const bot = startBot(roles.urlAs(roles.writer), await freePort());
    expect(await bot.exited).toBe(1);
    expect(bot.stderr).toContain(
      `refusing to run: DG_ERR_UNSAFE_DATABASE_ROLE: the DecisionGraph database role "${roles.writer}" can write to ` +
        'dg_event_log',
    );
    expect(bot.stderr).toContain("CREATE ROLE dg_recovery_ro LOGIN PASSWORD '<password>';");
    expect(bot.stderr).toContain('GRANT SELECT ON ALL TABLES IN SCHEMA public TO dg_recovery_ro;');
    const logged = bot.stdout.split('\n').filter(Boolean);
    expect(logged.some((l) => l.includes('"level":50') && l.includes('DG_ERR_UNSAFE_DATABASE_ROLE'))).toBe(true);
    expect(bot.stdout).not.toContain('Run state:');
    expect(bot.stdout).not.toContain('workers started');
  }, 30_000);

  it('starts with a warning when DecisionGraph Postgres does not answer, and stops cleanly', async () => {
    const deadPort = await freePort();
    const bot = startBot(`postgres://dg_recovery_ro@127.0.0.1:${deadPort}/decisiongraph`, await freePort());
    try {
      await bot.logged("could not check DecisionGraph's database role yet");
      await bot.logged('workers started');
      const warning = bot.stdout.split('\n').find((l) => l.includes('could not check'));
      expect(JSON.parse(warning as string)).toMatchObject({ level: 40, code: 'DG_ERR_SQL_UNREACHABLE' });
      expect(bot.stderr).not.toContain('refusing');
    } finally {
      bot.child.kill('SIGTERM');
    }
    expect(await bot.exited).toBe(0);
  }, 30_000);
});
