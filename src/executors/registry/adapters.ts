// Executor results to the measurements the judges read: evidence objects pass as they are, thrown errors become
// plain JSON (an Error's message does not survive JSON), DecisionGraph's business payloads are left out.

import { ErrorCode } from '../../errors.js';
import type { CallFailure, CallResult, SqlFailure } from '../../runbook/measurements.js';
import type { DgApiCallError, DgCallResult } from '../dg-http/index.js';
import type { CheckEvidence, DgSqlError } from '../dg-sql/index.js';

/** The failure of a call as plain JSON: code, message, whether waiting can fix it, and DecisionGraph's words. */
export function callFailureOf(error: DgApiCallError): CallFailure {
  return {
    code: error.code,
    message: error.message,
    transient: error.transient,
    dgCode: error.dgCode,
    dgMessage: error.dgMessage,
    details: error.details,
  };
}

/** A client result as a measurement; `data` is mapped (e.g. trimmed) only on success. */
export function callResultOf<T, U>(result: DgCallResult<T>, mapData: (data: T) => U): CallResult<U> {
  return result.ok
    ? { ok: true, data: mapData(result.data), evidence: result.evidence }
    : { ok: false, error: callFailureOf(result.error), evidence: result.evidence };
}

export function same<T>(data: T): T {
  return data;
}

/** Keeps only the named keys that are present. */
export function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

const TRANSIENT_SQL_CODES: ReadonlySet<string> = new Set([ErrorCode.SqlUnreachable, ErrorCode.SqlTimeout]);

/** A probe error as plain JSON. A query Postgres refused will fail the same way next time; the others may not. */
export function sqlFailureOf(error: DgSqlError): SqlFailure {
  return { code: error.code, message: error.message, transient: TRANSIENT_SQL_CODES.has(error.code) };
}

export function isDgSqlError(value: unknown): value is DgSqlError {
  const code = (value as { code?: unknown } | null)?.code;
  return (
    value instanceof Error &&
    (code === ErrorCode.SqlUnreachable || code === ErrorCode.SqlTimeout || code === ErrorCode.SqlQueryFailed)
  );
}

/** camelCase probe row → the snake_case keys DecisionGraph's tables use (and the judges read). */
export function snakeRow(row: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  return out;
}

/** A check's offending rows, first few only: ids, sequence numbers and hashes, never payloads. */
export function sampleOf(check: CheckEvidence<object>, max = 10): Record<string, unknown>[] {
  return check.rows.slice(0, max).map(snakeRow);
}
