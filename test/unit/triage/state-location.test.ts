import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { describeStateLocation, serverOf, stateLocation, stateLocationNote } from '../../../src/triage/index.js';

function config(databaseUrl: string, dgDatabaseUrl: string, redisUrl = 'redis://:redispw@cache.internal:6380/2') {
  return loadConfig({
    DG_BASE_URL: 'http://dg.internal:4000',
    DG_API_TOKEN: 'reader-token',
    DG_ADMIN_TOKEN: 'admin-token',
    DG_DATABASE_URL: dgDatabaseUrl,
    DG_KNOWN_TRACE_ID: 'trace-0001',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
  });
}

describe('where the bot keeps its state', () => {
  it('names hosts, ports, prefix, database and schema, never a user or password', () => {
    const where = stateLocation(
      config('postgres://bot:journalpw@journal.internal/dgr', 'postgres://dg_ro:dgpw@db.internal:5432/dg'),
      { prefix: 'prod:', journalSchema: 'recovery' },
    );
    expect(where).toEqual({
      liveLog: { server: 'cache.internal:6380', prefix: 'prod:' },
      journal: { server: 'journal.internal:5432', database: 'dgr', schema: 'recovery' },
      decisionGraphDatabase: 'db.internal:5432',
      sharesServerWithDecisionGraph: false,
    });
    const text = [...describeStateLocation(where), stateLocationNote(where)].join('\n');
    expect(text).not.toMatch(/journalpw|dgpw|redispw|bot:|dg_ro/);
    expect(describeStateLocation(where)).toEqual([
      'Live run logs and step jobs: Redis cache.internal:6380, key prefix prod:',
      'Journal of every run: Postgres journal.internal:5432/dgr, schema recovery',
    ]);
    expect(stateLocationNote(where)).toBe(
      'Run state: live logs and jobs in Redis at cache.internal:6380, journal in Postgres at journal.internal:5432.',
    );
  });

  it('defaults the prefix and schema to what the job layer and the journal use', () => {
    const where = stateLocation(config('postgres://a@j:5432/x', 'postgres://b@d:5432/y'));
    expect(where.liveLog.prefix).toBe('dgr:');
    expect(where.journal.schema).toBe('dg_recovery');
  });

  it.each([
    ['the same host and port', 'postgres://bot@db.internal:5432/journal', 'postgres://ro@db.internal/dg'],
    ['two spellings of loopback', 'postgres://bot@localhost/journal', 'postgres://ro@127.0.0.1:5432/dg'],
    [
      'the same Unix socket directory',
      'postgres:///journal?host=/run/postgresql',
      'postgres:///dg?host=/run/postgresql',
    ],
    ['host names differing in case only', 'postgres://bot@DB.internal:6543/j', 'postgres://ro@db.internal:6543/dg'],
  ])('warns when the journal and DecisionGraph share a server: %s', (_, journal, dg) => {
    const where = stateLocation(config(journal, dg));
    expect(where.sharesServerWithDecisionGraph).toBe(true);
    expect(describeStateLocation(where).at(-1)).toMatch(
      /^Warning: the journal shares a server with DecisionGraph's database \(Postgres .+\)\./,
    );
    expect(stateLocationNote(where)).toMatch(/runs go on from Redis and are journaled only once it is back/);
  });

  it.each([
    ['another port', 'postgres://bot@db.internal:5433/journal', 'postgres://ro@db.internal:5432/dg'],
    ['another host', 'postgres://bot@journal.internal/journal', 'postgres://ro@db.internal/dg'],
  ])('does not warn for separate servers: %s', (_, journal, dg) => {
    const where = stateLocation(config(journal, dg));
    expect(where.sharesServerWithDecisionGraph).toBe(false);
    expect(stateLocationNote(where)).not.toMatch(/Warning/);
  });

  it('returns undefined for a URL that does not parse, so nothing of it is shown', () => {
    expect(serverOf('not a url', '5432')).toBeUndefined();
    expect(serverOf('postgres://u:p@[::1]:5544/db', '5432')).toEqual({ server: '[::1]:5544', path: 'db' });
  });
});
