import type pg from 'pg';
import { ErrorCode, type UnsafeDatabaseRoleError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { assertReadOnlyRole, createProbePool } from '../dg-sql/index.js';
import { isDgSqlError } from './adapters.js';

// Safety rule 1: never write to DecisionGraph's tables, so refuse a role that could: at start-up, or when Postgres is
// down then (scenario 2), at the first probe that reaches it, and at every probe after (docs/operations.md).

const PLACEHOLDER = { host: '<host>', port: '5432', database: '<database>' };

function connectionParts(databaseUrl: string): { host: string; port: string; database: string } {
  try {
    const url = new URL(databaseUrl);
    return {
      host: url.hostname || PLACEHOLDER.host,
      port: url.port || PLACEHOLDER.port,
      database: decodeURIComponent(url.pathname.replace(/^\//, '')) || PLACEHOLDER.database,
    };
  } catch {
    return PLACEHOLDER;
  }
}

function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * The statements a database administrator runs to give the bot the role it needs (log in, read, nothing else),
 * and the `DG_DATABASE_URL` to set afterwards. Built from the host, port and database of `databaseUrl`; never
 * from its user or password.
 */
export function readOnlyRoleHowTo(databaseUrl: string): string {
  const { host, port, database } = connectionParts(databaseUrl);
  const db = sqlIdent(database);
  return [
    'Create a read-only role for the bot (as a database administrator) and point DG_DATABASE_URL at it:',
    "  CREATE ROLE dg_recovery_ro LOGIN PASSWORD '<password>';",
    `  GRANT CONNECT ON DATABASE ${db} TO dg_recovery_ro;`,
    '  GRANT USAGE ON SCHEMA public TO dg_recovery_ro;',
    '  GRANT SELECT ON ALL TABLES IN SCHEMA public TO dg_recovery_ro;',
    "  -- as the role that owns DecisionGraph's tables, so tables added by later migrations stay readable:",
    '  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO dg_recovery_ro;',
    `  DG_DATABASE_URL=postgres://dg_recovery_ro:<password>@${host}:${port}/${database}`,
    'The role must not be a superuser nor a member of a role that can write. See docs/operations.md.',
  ].join('\n');
}

/** The refusal as the person starting the process reads it: code, the role and its writable tables, the how-to. */
export function unsafeRoleRefusal(err: UnsafeDatabaseRoleError, databaseUrl: string): string {
  return `refusing to run: ${err.code}: ${err.message}\n${readOnlyRoleHowTo(databaseUrl)}`;
}

export function isUnsafeDatabaseRoleError(value: unknown): value is UnsafeDatabaseRoleError {
  return value instanceof Error && (value as { code?: unknown }).code === ErrorCode.UnsafeDatabaseRole;
}

/**
 * The refusal a probe error carries: the guarded pool refuses connections with it, and `withReadOnly` reports a
 * refused connection as a failed one with the refusal as its cause.
 */
export function unsafeRoleOf(err: unknown): UnsafeDatabaseRoleError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (isUnsafeDatabaseRoleError(current)) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * A role that can write to DecisionGraph's tables is no state of DecisionGraph to measure: a probe that meets the
 * refusal throws it (`UnsafeDatabaseRoleError`, not transient) instead of returning it as a measurement, so the
 * step fails on it and the run pauses with its message.
 */
export function throwIfUnsafeRole(err: unknown): void {
  const unsafe = unsafeRoleOf(err);
  if (unsafe !== undefined) throw unsafe;
}

/** What the start-up check found: a read-only role, a role that could write (refused), or no answer yet. */
export type StartupRoleVerdict = 'read_only' | 'refused' | 'unchecked';

export interface StartupRoleCheckOptions {
  /** Where the refusal (with the how-to) is written for the person starting the process. */
  readonly stderr: { write(text: string): unknown };
  /**
   * The process logger: the verdict is logged there (role name and code, never the URL). Without one, the
   * warning for a database that does not answer is written to `stderr` as a line of text.
   * @defaultValue none
   */
  readonly logger?: Logger;
  /** Give up connecting after this long. @defaultValue 5000 */
  readonly connectTimeoutMs?: number;
}

/**
 * The entry points' check of `DG_DATABASE_URL`'s role, before anything touches DecisionGraph. A role that can
 * write is `refused` (the caller exits 1). A database that cannot be reached or queried is `unchecked`, not a
 * refusal: Postgres being down is one of the scenarios the bot is there for; the executors check the role at the
 * first probe that reaches it (see {@link guardReadOnlyRole}).
 */
export async function checkDatabaseRoleAtStart(
  databaseUrl: string,
  opts: StartupRoleCheckOptions,
): Promise<StartupRoleVerdict> {
  const pool = createProbePool({
    connectionString: databaseUrl,
    connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
    max: 1,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  try {
    const report = await assertReadOnlyRole(pool);
    opts.logger?.info({ role: report.role }, "DecisionGraph's database role is read-only");
    return 'read_only';
  } catch (err) {
    if (isUnsafeDatabaseRoleError(err)) {
      opts.logger?.error(
        { code: err.code, role: err.role, writableTables: err.writableTables },
        "refusing to run: DecisionGraph's database role can write",
      );
      opts.stderr.write(`${unsafeRoleRefusal(err, databaseUrl)}\n`);
      return 'refused';
    }
    if (!isDgSqlError(err)) throw err;
    const warning =
      `could not check DecisionGraph's database role yet (${err.message}); it is checked at the first probe ` +
      'that reaches the database, and the SQL probes refuse to run if it can write';
    if (opts.logger) opts.logger.warn({ code: err.code }, warning);
    else opts.stderr.write(`warning: ${warning}\n`);
    return 'unchecked';
  } finally {
    await pool.end().catch(() => undefined);
  }
}

type Connect = () => Promise<pg.PoolClient>;

/**
 * The probe pool, checked: the first connection that succeeds runs the role check (one at a time, however many
 * probes ask together); a read-only role lets every probe through from then on. A role that can write makes the
 * connection (and so the probe) fail with `UnsafeDatabaseRoleError`, and the next connection checks again, so a
 * role fixed by its administrator works on the step's retry without a restart. While Postgres does not answer,
 * connections fail as before and the check waits. Everything else is the pool's own.
 */
export function guardReadOnlyRole(pool: pg.Pool, logger: Logger): pg.Pool {
  let verified = false;
  /** The last refusal, so that a role refused probe after probe is logged once, not once per probe. */
  let refusal: UnsafeDatabaseRoleError | undefined;
  let checking: Promise<void> | undefined;

  const verify = (): Promise<void> => {
    checking ??= assertReadOnlyRole(pool)
      .then(
        (report) => {
          verified = true;
          refusal = undefined;
          logger.info({ role: report.role }, "DecisionGraph's database role is read-only");
        },
        (err: unknown) => {
          if (isUnsafeDatabaseRoleError(err)) {
            if (refusal === undefined) {
              logger.error(
                { code: err.code, role: err.role, writableTables: err.writableTables },
                "DecisionGraph's database role can write: the SQL probes refuse to run",
              );
            }
            refusal = err;
          }
          throw err;
        },
      )
      .finally(() => {
        checking = undefined;
      });
    return checking;
  };

  const connect: Connect = async () => {
    for (;;) {
      const client = await pool.connect();
      if (verified) return client;
      // Given back before the check, which takes a connection of its own: a pool of one would wait forever.
      client.release();
      await verify();
    }
  };

  const guardedConnect = (callback?: (err: Error | undefined, client?: pg.PoolClient, done?: () => void) => void) => {
    const connected = connect();
    if (typeof callback !== 'function') return connected;
    connected.then(
      (client) => callback(undefined, client, () => client.release()),
      (err: Error) => callback(err),
    );
    return undefined;
  };

  const guardedQuery = async (...args: unknown[]) => {
    if (typeof args.at(-1) === 'function') throw new TypeError('the probe pool takes no query callbacks');
    const client = await connect();
    let failed: Error | undefined;
    try {
      return await (client.query as (...a: unknown[]) => Promise<unknown>).apply(client, args);
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      client.release(failed);
    }
  };

  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'connect') return guardedConnect;
      if (prop === 'query') return guardedQuery;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
