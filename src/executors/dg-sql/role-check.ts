import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { UnsafeDatabaseRoleError } from '../../errors.js';
import { roundMs } from './evidence.js';
import { withReadOnly } from './read-only.js';
import { DECISIONGRAPH_TABLES } from './tables.js';

const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'] as const;
export type WritePrivilege = (typeof WRITE_PRIVILEGES)[number];

export interface WritableTable {
  readonly table: string;
  readonly privileges: readonly WritePrivilege[];
  /** The role holding the privilege: the login role or a role it is a member of. */
  readonly viaRole: string;
}

export interface RoleReport {
  readonly check: 'role_safety';
  readonly sqlName: string;
  readonly durationMs: number;
  readonly role: string;
  /** The login role, or a role it can become, is a superuser (bypasses every privilege). */
  readonly superuser: boolean;
  readonly writable: readonly WritableTable[];
  /** Tables the role cannot SELECT (a probe on them would fail). */
  readonly unreadable: readonly string[];
  /** Known DecisionGraph tables not found in the search path. */
  readonly missing: readonly string[];
  /** No superuser and no write privilege on any DecisionGraph table. */
  readonly safe: boolean;
}

/**
 * Reads what the probe role may do to DecisionGraph's tables. It looks through role membership too
 * (`pg_has_role(..., 'MEMBER')`), because a member can `SET ROLE` to a writer even without inheriting.
 */
export async function inspectRole(pool: pg.Pool, opts: { timeoutMs?: number } = {}): Promise<RoleReport> {
  const started = performance.now();
  const sqlName = 'dg_sql.role_safety.v1';
  return withReadOnly(pool, { timeoutMs: opts.timeoutMs ?? 5000, sqlName }, async (s) => {
    const roles = await s.query<{ rolname: string; rolsuper: boolean; is_self: boolean }>(
      `${sqlName}.roles`,
      `SELECT rolname, rolsuper, rolname = current_user AS is_self
       FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname <> current_user, rolname`,
    );
    const privileges = await s.query<{
      table_name: string;
      rolname: string;
      can_select: boolean;
      can_insert: boolean;
      can_update: boolean;
      can_delete: boolean;
      can_truncate: boolean;
      is_self: boolean;
    }>(
      `${sqlName}.privileges`,
      // DecisionGraph's tables, and any other visible `dg_*` table as well.
      `SELECT c.relname AS table_name, r.rolname, r.rolname = current_user AS is_self,
              has_table_privilege(r.oid, c.oid, 'SELECT') AS can_select,
              has_table_privilege(r.oid, c.oid, 'INSERT') AS can_insert,
              has_table_privilege(r.oid, c.oid, 'UPDATE') AS can_update,
              has_table_privilege(r.oid, c.oid, 'DELETE') AS can_delete,
              has_table_privilege(r.oid, c.oid, 'TRUNCATE') AS can_truncate
       FROM pg_class c
       CROSS JOIN pg_roles r
       WHERE c.relkind IN ('r', 'p') AND (c.relname = ANY($1::text[]) OR c.relname LIKE 'dg\\_%')
         AND pg_table_is_visible(c.oid) AND pg_has_role(current_user, r.oid, 'MEMBER')
       ORDER BY c.relname <> 'dg_event_log', c.relname, r.rolname <> current_user, r.rolname`,
      [DECISIONGRAPH_TABLES],
    );
    const role = roles.rows.find((r) => r.is_self)?.rolname ?? '(unknown)';
    const superuser = roles.rows.some((r) => r.rolsuper);
    const writable: WritableTable[] = [];
    const seen = new Set<string>();
    const unreadable: string[] = [];
    for (const row of privileges.rows) {
      seen.add(row.table_name);
      if (row.is_self && !row.can_select) unreadable.push(row.table_name);
      const held = WRITE_PRIVILEGES.filter(
        (p) =>
          (p === 'INSERT' && row.can_insert) ||
          (p === 'UPDATE' && row.can_update) ||
          (p === 'DELETE' && row.can_delete) ||
          (p === 'TRUNCATE' && row.can_truncate),
      );
      if (held.length > 0) writable.push({ table: row.table_name, privileges: held, viaRole: row.rolname });
    }
    const missing = DECISIONGRAPH_TABLES.filter((t) => !seen.has(t));
    return {
      check: 'role_safety',
      sqlName,
      durationMs: roundMs(performance.now() - started),
      role,
      superuser,
      writable,
      unreadable,
      missing,
      safe: !superuser && writable.length === 0,
    };
  });
}

/**
 * Refuses to go on with a role that could change DecisionGraph's data: a superuser, or INSERT, UPDATE, DELETE or
 * TRUNCATE on any DecisionGraph table, held directly or through a role the login can become (docs/operations.md).
 * @throws UnsafeDatabaseRoleError naming the writable tables (`dg_event_log` first)
 */
export async function assertReadOnlyRole(pool: pg.Pool, opts: { timeoutMs?: number } = {}): Promise<RoleReport> {
  const report = await inspectRole(pool, opts);
  if (!report.safe) {
    const tables = [...new Set(report.writable.map((w) => w.table))];
    throw new UnsafeDatabaseRoleError(report.role, report.superuser ? ['every table (superuser)'] : tables);
  }
  return report;
}
