import { createHash } from 'node:crypto';

/** Plain JSON: what run events, outputs and evidence are made of, so they survive Redis and Postgres `jsonb`. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type JsonPrimitive = string | number | boolean | null;

/**
 * JSON with object keys sorted, so equal values always give the same text (the basis of approval fingerprints).
 * `undefined` members are dropped, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** A short, stable digest of a value: `fp-` and 16 hex characters of the SHA-256 of its canonical JSON. */
export function fingerprintOf(value: unknown): string {
  return `fp-${createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16)}`;
}

/**
 * Copies a value into plain JSON: drops `undefined`, turns non-finite numbers and other non-JSON values into
 * `null`, and bigint into a string. Measurements come from drivers (pg returns bigint columns as strings or
 * bigints); events must not carry anything `jsonb` would change.
 */
export function toJson(value: unknown, depth = 0): Json {
  if (depth > 32) return null;
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value.replaceAll('\u0000', '');
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object': {
      if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined && typeof v !== 'function') out[k] = toJson(v, depth + 1);
      }
      return out;
    }
    default:
      return null;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
