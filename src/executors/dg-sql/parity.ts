import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { type CheckEvidence, evidence, roundMs, validCap } from './evidence.js';
import { SQL } from './integrity-checks.js';
import { type ReadOnlySession, withReadOnly } from './read-only.js';

export interface TenantParity {
  tenantId: string;
  eventCount: number;
  /** Highest `log_seq` of the tenant. */
  tailLogSeq: number;
}

/**
 * Event count and tail per tenant: the Phase 8 restore drill compares `COUNT(*)` of `dg_event_log` between the
 * source and the restored database; the tail catches a restore that lost the newest events but gained others.
 */
export interface ParitySnapshot {
  /** `host:port/database as user` of the database it was taken from. */
  readonly source: string;
  readonly takenAt: string;
  readonly durationMs: number;
  /** Sorted by tenant. */
  readonly tenants: readonly TenantParity[];
}

export interface ParityMismatch {
  tenantId: string;
  field: 'eventCount' | 'tailLogSeq' | 'tenant';
  /** `null` for `tenant` when the tenant is missing on that side. */
  expected: number | null;
  actual: number | null;
}

export async function paritySnapshotIn(s: ReadOnlySession, opts: { tenantId?: string } = {}): Promise<ParitySnapshot> {
  const started = performance.now();
  const result = await s.query<TenantParity>('dg_sql.restore_parity.v1', SQL.parity, [opts.tenantId ?? null]);
  return {
    source: s.target,
    takenAt: new Date().toISOString(),
    durationMs: roundMs(performance.now() - started),
    tenants: result.rows,
  };
}

/** Takes a parity snapshot in a read-only transaction. */
export function takeParitySnapshot(
  pool: pg.Pool,
  opts: { tenantId?: string; timeoutMs?: number } = {},
): Promise<ParitySnapshot> {
  return withReadOnly(pool, { timeoutMs: opts.timeoutMs }, (s) => paritySnapshotIn(s, opts));
}

/**
 * Differences between what was expected (a snapshot of the source, or values recorded before a backup) and
 * what a database holds. With `onlyExpectedTenants`, tenants present only in `actual` are ignored (use it when
 * the expectation covers one tenant). A tenant without events has neither count nor tail, so it is "missing".
 */
export function compareParity(
  expected: readonly TenantParity[] | ParitySnapshot,
  actual: readonly TenantParity[] | ParitySnapshot,
  opts: { onlyExpectedTenants?: boolean } = {},
): ParityMismatch[] {
  const want = 'tenants' in expected ? expected.tenants : expected;
  const have = new Map(('tenants' in actual ? actual.tenants : actual).map((t) => [t.tenantId, t]));
  const mismatches: ParityMismatch[] = [];
  for (const w of [...want].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0))) {
    const h = have.get(w.tenantId);
    have.delete(w.tenantId);
    if (!h) {
      mismatches.push({ tenantId: w.tenantId, field: 'tenant', expected: w.eventCount, actual: null });
      continue;
    }
    if (h.eventCount !== w.eventCount) {
      mismatches.push({ tenantId: w.tenantId, field: 'eventCount', expected: w.eventCount, actual: h.eventCount });
    }
    if (h.tailLogSeq !== w.tailLogSeq) {
      mismatches.push({ tenantId: w.tenantId, field: 'tailLogSeq', expected: w.tailLogSeq, actual: h.tailLogSeq });
    }
  }
  if (!opts.onlyExpectedTenants) {
    for (const h of [...have.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1))) {
      mismatches.push({ tenantId: h.tenantId, field: 'tenant', expected: null, actual: h.eventCount });
    }
  }
  return mismatches;
}

export type ParityEvidence = CheckEvidence<ParityMismatch> & { readonly snapshot: ParitySnapshot };

/**
 * Compares a database against an expectation. With `tenantId`, only that tenant is read and compared.
 */
export async function checkRestoreParity(
  pool: pg.Pool,
  expected: readonly TenantParity[] | ParitySnapshot,
  opts: { tenantId?: string; cap?: number; timeoutMs?: number } = {},
): Promise<ParityEvidence> {
  const cap = validCap(opts.cap);
  const snapshot = await takeParitySnapshot(pool, opts);
  const want = ('tenants' in expected ? expected.tenants : expected).filter(
    (t) => opts.tenantId === undefined || t.tenantId === opts.tenantId,
  );
  const mismatches = compareParity(want, snapshot);
  return {
    ...evidence(
      'restore_parity',
      'dg_sql.restore_parity.v1',
      snapshot.durationMs,
      mismatches.slice(0, cap),
      mismatches.length,
    ),
    snapshot,
  };
}

/** Compares two databases (e.g. the preserved broken one and the restored one) in one call. */
export async function compareDatabases(
  expectedPool: pg.Pool,
  actualPool: pg.Pool,
  opts: { tenantId?: string; cap?: number; timeoutMs?: number } = {},
): Promise<ParityEvidence & { readonly expected: ParitySnapshot }> {
  const expected = await takeParitySnapshot(expectedPool, opts);
  const result = await checkRestoreParity(actualPool, expected, opts);
  return { ...result, expected };
}
