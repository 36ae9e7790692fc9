import { describe, expect, it } from 'vitest';
import { ErrorCode, UnsafeDatabaseRoleError } from '../../../../src/errors.js';
import { readOnlyRoleHowTo, unsafeRoleRefusal } from '../../../../src/executors/registry/index.js';

// The how-to printed with a refusal: what a database administrator needs, built from the URL's host, port and
// database only.

describe('the read-only role how-to', () => {
  it('names the database, host and port of DG_DATABASE_URL, never its user or password', () => {
    const text = readOnlyRoleHowTo('postgres://dg_owner:s3cret-pw@db.internal:6543/decisiongraph?sslmode=require');
    expect(text).toContain("CREATE ROLE dg_recovery_ro LOGIN PASSWORD '<password>';");
    expect(text).toContain('GRANT CONNECT ON DATABASE decisiongraph TO dg_recovery_ro;');
    expect(text).toContain('GRANT USAGE ON SCHEMA public TO dg_recovery_ro;');
    expect(text).toContain('GRANT SELECT ON ALL TABLES IN SCHEMA public TO dg_recovery_ro;');
    expect(text).toContain('ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dg_recovery_ro;');
    expect(text).toContain('DG_DATABASE_URL=postgres://dg_recovery_ro:<password>@db.internal:6543/decisiongraph');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('dg_owner');
  });

  it('quotes a database name that needs it, and falls back to placeholders for a URL it cannot read', () => {
    expect(readOnlyRoleHowTo('postgres://u@h/Decision-Graph')).toContain(
      'GRANT CONNECT ON DATABASE "Decision-Graph" TO dg_recovery_ro;',
    );
    expect(readOnlyRoleHowTo('not a url')).toContain('@<host>:5432/<database>');
  });

  it('puts the code and the writable tables first in the refusal', () => {
    const err = new UnsafeDatabaseRoleError('dg_app', ['dg_event_log', 'dg_projection_runs']);
    const text = unsafeRoleRefusal(err, 'postgres://dg_app:pw@127.0.0.1:5432/dg');
    expect(text.split('\n')[0]).toBe(
      `refusing to run: ${ErrorCode.UnsafeDatabaseRole}: the DecisionGraph database role "dg_app" can write to ` +
        'dg_event_log, dg_projection_runs; the bot needs a read-only role (GRANT SELECT only)',
    );
    expect(text).not.toContain(':pw@');
  });
});
