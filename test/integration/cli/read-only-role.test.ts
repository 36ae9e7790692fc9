import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/own-postgres.js';
import { createProbeRolesDatabase, type ProbeRolesDatabase } from '../../helpers/probe-roles.js';
import { type Finished, runToEnd } from '../../helpers/run-to-end.js';

// Safety rule 1 at the terminal's process entry: `dg-recovery` refuses a DecisionGraph database role that can
// write before it touches DecisionGraph, and starts with a warning when that database does not answer yet.

let roles: ProbeRolesDatabase;
let api: http.Server;
let apiUrl: string;
let apiRequests = 0;

beforeAll(async () => {
  roles = await createProbeRolesDatabase('dgcliro');
  // DecisionGraph's API, down in a way that answers at once: only the number of calls matters here.
  api = http.createServer((_req, res) => {
    apiRequests += 1;
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"unavailable","message":"down"}}');
  });
  await new Promise<void>((done) => api.listen(0, '127.0.0.1', done));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((done) => (api ? api.close(() => done()) : done()));
  await roles?.close();
});

function dgRecovery(args: readonly string[], dgDatabaseUrl: string): Promise<Finished> {
  return runToEnd(process.execPath, ['bin/dg-recovery.js', ...args], {
    PATH: process.env.PATH,
    NO_COLOR: '1',
    DG_BASE_URL: apiUrl,
    DG_API_TOKEN: 'reader-token',
    DG_DATABASE_URL: dgDatabaseUrl,
    DG_KNOWN_TRACE_ID: 'trace-1',
    DATABASE_URL: roles.db.url,
    // Nothing here needs Redis: a refused start never gets that far, and diagnose reads DecisionGraph only.
    REDIS_URL: 'redis://127.0.0.1:1',
  });
}

describe('dg-recovery and the DecisionGraph database role', () => {
  it('refuses a role that can write to dg_event_log, says how to create a read-only one, and exits 1', async () => {
    const before = apiRequests;
    const [diagnose, recover] = await Promise.all([
      dgRecovery(['diagnose'], roles.urlAs(roles.writer)),
      dgRecovery(['recover', 'restart', '--auto'], roles.urlAs(roles.writer)),
    ]);
    for (const r of [diagnose, recover]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `dg-recovery: refusing to run: DG_ERR_UNSAFE_DATABASE_ROLE: the DecisionGraph database role "${roles.writer}" ` +
          'can write to dg_event_log',
      );
      expect(r.stderr).toContain("CREATE ROLE dg_recovery_ro LOGIN PASSWORD '<password>';");
      expect(r.stderr).toContain(`GRANT CONNECT ON DATABASE ${roles.db.name} TO dg_recovery_ro;`);
      expect(r.stderr).toContain('GRANT USAGE ON SCHEMA public TO dg_recovery_ro;');
      expect(r.stderr).toContain('GRANT SELECT ON ALL TABLES IN SCHEMA public TO dg_recovery_ro;');
      expect(r.stderr).toContain(
        `DG_DATABASE_URL=postgres://dg_recovery_ro:<password>@127.0.0.1:5432/${roles.db.name}`,
      );
    }
    // Refused before anything else: no probe of DecisionGraph, no run started.
    expect(diagnose.stdout).not.toContain('Probing DecisionGraph');
    expect(recover.stdout).not.toContain('Starting restart');
    expect(apiRequests).toBe(before);
  }, 30_000);

  it('refuses a superuser the same way', async () => {
    const r = await dgRecovery(['status'], roles.db.url);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('can write to every table (superuser)');
  }, 20_000);

  it('starts with a warning when DecisionGraph Postgres does not answer, and probes as asked', async () => {
    const before = apiRequests;
    const deadPort = await freePort();
    const r = await dgRecovery(['diagnose'], `postgres://dg_recovery_ro@127.0.0.1:${deadPort}/decisiongraph`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("dg-recovery: warning: could not check DecisionGraph's database role yet");
    expect(r.stderr).toContain('the SQL probes refuse to run if it can write');
    expect(r.stderr).not.toContain('refusing to run');
    expect(r.stdout).toContain('Probing DecisionGraph');
    expect(apiRequests).toBeGreaterThan(before);
  }, 30_000);

  it('runs quietly with a SELECT-only role', async () => {
    const r = await dgRecovery(['diagnose'], roles.urlAs(roles.reader));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('warning');
    expect(r.stderr).not.toContain('refusing');
    expect(r.stdout).toContain('Probing DecisionGraph');
  }, 30_000);
});
