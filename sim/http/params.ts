import { ApiError } from './api-error.js';

/** An optional integer query parameter within bounds; DecisionGraph answers 400 for anything else. */
export function intParam(
  query: URLSearchParams,
  key: string,
  opts: { min: number; max: number; fallback: number },
): number {
  const raw = query.get(key);
  if (raw === null || raw === '') return opts.fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ApiError('invalid_argument', `${key} must be an integer`);
  const n = Number(raw.trim());
  if (n < opts.min || n > opts.max) {
    throw new ApiError('invalid_argument', `${key} must be between ${opts.min} and ${opts.max}`);
  }
  return n;
}

export function requiredParam(query: URLSearchParams, key: string): string {
  const v = query.get(key);
  if (v === null || v.trim() === '') throw new ApiError('invalid_argument', `${key} is required`);
  return v;
}

export function optionalParam(query: URLSearchParams, key: string): string | null {
  const v = query.get(key);
  return v === null || v === '' ? null : v;
}

export function boolParam(query: URLSearchParams, key: string, fallback: boolean): boolean {
  const v = query.get(key);
  if (v === null || v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ApiError('invalid_argument', `${key} must be true or false`);
}

export function listParam(query: URLSearchParams, key: string): string[] | null {
  const v = optionalParam(query, key);
  if (v === null) return null;
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : null;
}
