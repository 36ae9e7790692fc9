import { headOf } from '../../outside-text.js';
import type { Evidence, EvidenceSource } from '../events.js';
import { type Json, toJson } from '../json.js';
import type { CallEvidence, CallResult } from '../measurements.js';

export function httpSource(call: CallEvidence): EvidenceSource {
  return {
    kind: 'http',
    method: call.method,
    path: call.path.slice(0, 2000),
    status: call.status,
    requestId: call.requestId,
    latencyMs: Math.max(0, call.latencyMs),
  };
}

export const ENGINE_SOURCE: EvidenceSource = { kind: 'engine' };

export function evidence(
  label: string,
  measured: unknown,
  source: EvidenceSource,
  extra: { expected?: unknown; ok?: boolean; detail?: string } = {},
): Evidence {
  const item: Evidence = { label: label.slice(0, 200), measured: toJson(measured), source };
  if (extra.expected !== undefined) item.expected = toJson(extra.expected);
  if (extra.ok !== undefined) item.ok = extra.ok;
  if (extra.detail !== undefined) item.detail = headOf(extra.detail, 1000);
  return item;
}

/** The status line of a call: its HTTP status, or the code of the failure when nothing answered. */
export function callStatus(result: CallResult<unknown>): Json {
  if (result.evidence.status !== null) return result.evidence.status;
  return result.ok ? null : `no answer (${result.error.code})`;
}

/** One evidence item for an HTTP call, measured status against the expected one. */
export function callEvidence(
  label: string,
  result: CallResult<unknown>,
  expectedStatus: number,
  detail?: string,
): Evidence {
  const ok = result.ok && result.evidence.status === expectedStatus;
  const failure = result.ok ? undefined : `${result.error.code}: ${result.error.message}`;
  return evidence(label, callStatus(result), httpSource(result.evidence), {
    expected: expectedStatus,
    ok,
    ...(detail !== undefined ? { detail } : failure !== undefined ? { detail: failure } : {}),
  });
}

export function toCount(value: number | string | null | undefined): number {
  const n = typeof value === 'string' ? Number(value) : (value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
