import { createHash } from 'node:crypto';

/** A float anywhere in a payload is a schema violation in DecisionGraph: decimals travel as strings. */
export class FloatInPayloadError extends Error {
  constructor(readonly path: string) {
    super(`floats are not allowed (at ${path}); send decimals as strings`);
  }
}

/**
 * DecisionGraph's canonical JSON (contract §5.3): keys sorted ascending by code point, no whitespace, non-ASCII
 * kept as UTF-8, integers/booleans/null as literals, array order kept, floats rejected.
 */
export function canonicalJson(value: unknown, path = '$'): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isInteger(value)) throw new FloatInPayloadError(path);
      return String(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v, `${path}[${i}]`)).join(',')}]`;
      const keys = Object.keys(value as object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const parts = keys.map(
        (k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k], `${path}.${k}`)}`,
      );
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot encode ${typeof value} at ${path}`);
  }
}

/** `sha256:` + lowercase hex SHA-256 of the UTF-8 canonical JSON text. */
export function sha256Hex(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

export function payloadHash(payload: unknown): string {
  return sha256Hex(canonicalJson(payload));
}
