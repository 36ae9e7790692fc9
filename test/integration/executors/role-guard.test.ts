import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../src/config/env.js';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import { ErrorCode } from '../../../src/errors.js';
import {
  createExecutorContext,
  type ExecutorContextFactory,
  type ExecutorDeps,
  executeStep,
  measureStep,
} from '../../../src/executors/registry/index.js';
import { createLogger } from '../../../src/logger.js';
import type { SqlParityMeasurement, SqlReachMeasurement } from '../../../src/runbook/measurements.js';
import { freePort } from '../../helpers/own-postgres.js';
import { ADMIN_URL } from '../../helpers/pg.js';
import { createProbeRolesDatabase, type ProbeRolesDatabase } from '../../helpers/probe-roles.js';

// The executors' half of safety rule 1: the probe pool checks its role at the first connection that succeeds,
// and a role that can write stops every SQL probe with DG_ERR_UNSAFE_DATABASE_ROLE.

let roles: ProbeRolesDatabase;
let deadHttpPort: number;
const factories: ExecutorContextFactory[] = [];

beforeAll(async () => {
  roles = await createProbeRolesDatabase('dgguard');
  deadHttpPort = await freePort();
});

afterAll(async () => {
  await Promise.all(factories.map((f) => f.close()));
  await roles?.close();
});

function configWith(databaseUrl: string): Config {
  return loadConfig({
    DG_BASE_URL: `http://127.0.0.1:${deadHttpPort}`,
    DG_API_TOKEN: 'reader-token',
    DG_DATABASE_URL: databaseUrl,
    DG_KNOWN_TRACE_ID: 'trace-1',
    DATABASE_URL: 'postgres://root@127.0.0.1:5432/unused',
  });
}

/** An executor factory on `databaseUrl`, with its log lines kept for the test to read. */
function factoryFor(databaseUrl: string, deps: Partial<ExecutorDeps> = {}) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const factory = createExecutorContext(configWith(databaseUrl), defaultRecoveryConfig(), {
    logger: createLogger({ level: 'info' }, sink),
    sqlPoolOptions: { connectTimeoutMs: 2000 },
    ...deps,
  });
  factories.push(factory);
  return { factory, ctx: factory.forStep({ runId: 'run-guard' }), lines };
}

/** A TCP door to the shared Postgres: shut, it drops every connection at once; open, it passes them through. */
async function startDoor(): Promise<{ url: (role: string) => string; open(): void; close(): Promise<void> }> {
  const target = new URL(ADMIN_URL);
  const sockets = new Set<Socket>();
  let isOpen = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (!isOpen) {
      client.destroy();
      return;
    }
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url(role) {
      const url = new URL(roles.urlAs(role));
      url.host = `127.0.0.1:${port}`;
      return url.toString();
    },
    open() {
      isOpen = true;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function asAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: roles.db.url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const checkedLines = (lines: string[]) => lines.filter((l) => l.includes("DecisionGraph's database role"));

describe('the probe role guard', () => {
  it('lets every probe of a SELECT-only role through, and checks the role once however many probes ask together', async () => {
    const { ctx, lines } = factoryFor(roles.urlAs(roles.reader));
    const [a, b, parity] = await Promise.all([
      executeStep('sql.reach', {}, ctx),
      executeStep('sql.reach', {}, ctx),
      executeStep('sql.parity', {}, ctx),
    ]);
    expect((a as SqlReachMeasurement).reachable).toBe(true);
    expect((b as SqlReachMeasurement).reachable).toBe(true);
    expect((parity as SqlParityMeasurement).error).toBeUndefined();
    expect(((await executeStep('sql.reach', {}, ctx)) as SqlReachMeasurement).reachable).toBe(true);
    const checked = checkedLines(lines);
    expect(checked).toHaveLength(1);
    expect(JSON.parse(checked[0] as string)).toMatchObject({ level: 30, role: roles.reader });
  });

  it('stops every SQL probe of a role that can write with DG_ERR_UNSAFE_DATABASE_ROLE (a step failure that does not retry) until the role is fixed', async () => {
    const { ctx, lines } = factoryFor(roles.urlAs(roles.writer));
    await expect(executeStep('sql.reach', {}, ctx)).rejects.toMatchObject({
      code: ErrorCode.UnsafeDatabaseRole,
      role: roles.writer,
      writableTables: ['dg_event_log'],
    });
    for (const executor of [
      'sql.integrity',
      'sql.parity',
      'sql.projection_failures',
      'sql.cursor_ahead',
      'dg.replay_inventory',
      'gate.checklist',
    ]) {
      const outcome = await measureStep(executor, {}, ctx);
      expect(outcome, executor).toMatchObject({
        kind: 'error',
        error: { code: ErrorCode.UnsafeDatabaseRole, transient: false },
      });
      if (outcome.kind === 'error') expect(outcome.error.message).toContain('the bot needs a read-only role');
    }
    // The HTTP executors are not the role's business: they still measure (here, a DecisionGraph that is down).
    expect(await executeStep('dg.healthz', {}, ctx)).toMatchObject({
      ok: false,
      error: { code: ErrorCode.ApiUnreachable },
    });
    expect(checkedLines(lines).map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ level: 50, code: ErrorCode.UnsafeDatabaseRole, role: roles.writer }),
    ]);

    // Once an administrator takes the write privilege away, the next probe (the step's retry) runs.
    await asAdmin(`REVOKE INSERT ON dg_event_log FROM ${roles.writer}`);
    try {
      expect(((await executeStep('sql.reach', {}, ctx)) as SqlReachMeasurement).reachable).toBe(true);
    } finally {
      await asAdmin(`GRANT INSERT ON dg_event_log TO ${roles.writer}`);
    }
  });

  it('measures an outage while Postgres is down, then refuses the role that can write once Postgres answers', async () => {
    const door = await startDoor();
    try {
      const { ctx } = factoryFor(door.url(roles.writer));
      const down = (await executeStep('sql.reach', {}, ctx)) as SqlReachMeasurement;
      expect(down).toMatchObject({ reachable: false, error: { code: ErrorCode.SqlUnreachable, transient: true } });
      door.open();
      await expect(executeStep('sql.reach', {}, ctx)).rejects.toMatchObject({ code: ErrorCode.UnsafeDatabaseRole });
      await expect(executeStep('sql.parity', {}, ctx)).rejects.toMatchObject({ code: ErrorCode.UnsafeDatabaseRole });
    } finally {
      await door.close();
    }
  });

  it('requireReadOnlyRole: false (fixtures probing a database as its superuser) lets the probes through', async () => {
    const guarded = factoryFor(roles.db.url);
    await expect(executeStep('sql.reach', {}, guarded.ctx)).rejects.toMatchObject({
      code: ErrorCode.UnsafeDatabaseRole,
      writableTables: ['every table (superuser)'],
    });
    const unguarded = factoryFor(roles.db.url, { requireReadOnlyRole: false });
    const reach = (await executeStep('sql.reach', {}, unguarded.ctx)) as SqlReachMeasurement;
    expect(reach.reachable).toBe(true);
    expect(checkedLines(unguarded.lines)).toEqual([]);
  });
});
