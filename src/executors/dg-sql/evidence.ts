/** Names of the checks, as they appear in evidence and in the incident summary. */
export type CheckName =
  | 'connectivity'
  | 'role_safety'
  | 'payload_hash_drift'
  | 'trace_seq_continuity'
  | 'trace_seq_ordering'
  | 'trace_start_mismatch'
  | 'event_after_finish'
  | 'cursor_ahead_of_tail'
  | 'open_failures'
  | 'stuck_or_orphaned_runs'
  | 'restore_parity';

/**
 * What one check found: the offending rows (capped) and how many there are in all. Holds no connection string
 * and no payload text: safe to log, journal and show in Slack.
 */
export interface CheckEvidence<Row> {
  readonly check: CheckName;
  /** Stable name of the SQL that produced the rows, e.g. `dg_sql.payload_hash_drift.v1`. */
  readonly sqlName: string;
  /** Wall time of the check, ms (for a chunked scan: of the whole scan). */
  readonly durationMs: number;
  /** The first `cap` offending rows, in the check's order. */
  readonly rows: readonly Row[];
  /** Offending rows in all; larger than `rows.length` when capped. */
  readonly totalCount: number;
  readonly truncated: boolean;
  /** `totalCount === 0`. */
  readonly ok: boolean;
}

/** Rows a check returns unless told otherwise. */
export const DEFAULT_ROW_CAP = 20;

export function evidence<Row>(
  check: CheckName,
  sqlName: string,
  durationMs: number,
  rows: readonly Row[],
  totalCount: number,
): CheckEvidence<Row> {
  return {
    check,
    sqlName,
    durationMs: roundMs(durationMs),
    rows,
    totalCount,
    truncated: totalCount > rows.length,
    ok: totalCount === 0,
  };
}

/** Milliseconds with one decimal: enough to compare probes, short in Slack. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

export function validCap(cap: number | undefined): number {
  const value = cap ?? DEFAULT_ROW_CAP;
  if (!Number.isInteger(value) || value < 0) throw new RangeError('cap must be a non-negative integer');
  return value;
}
