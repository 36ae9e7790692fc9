import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';

const documented = new Set(
  [
    ...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| (DG_ERR_[A-Z0-9_]+) \|/gm),
  ].map((m) => m[1]),
);

describe('error code registry', () => {
  it('documents every code in docs/errors.md', () => {
    const missing = Object.values(ErrorCode).filter((code) => !documented.has(code));
    expect(missing).toEqual([]);
  });

  it('documents no code that no longer exists', () => {
    const known = new Set<string>(Object.values(ErrorCode));
    const stale = [...documented].filter((code) => !known.has(code as string));
    expect(stale).toEqual([]);
  });

  it('uses each code string once', () => {
    const values = Object.values(ErrorCode);
    expect(new Set(values).size).toBe(values.length);
  });
});
