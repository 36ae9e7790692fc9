import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const DIR = fileURLToPath(new URL('./golden/', import.meta.url));

/** `UPDATE_GOLDEN=1 npx vitest run test/unit/projections/summary` rewrites the golden files instead of comparing. */
export const UPDATING = process.env.UPDATE_GOLDEN === '1';

/**
 * Compares text with `golden/<name>.md`. A difference fails with a line diff (vitest's, never truncated) and the
 * way to accept the new text; in update mode the file is written instead.
 */
export function expectGolden(name: string, actual: string): void {
  const file = `${DIR}${name}.md`;
  if (UPDATING) {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file golden/${name}.md is missing; create it with UPDATE_GOLDEN=1`);
  }
  const expected = readFileSync(file, 'utf8');
  expect(
    actual,
    `the summary differs from golden/${name}.md (- golden, + now); if the change is intended, run with UPDATE_GOLDEN=1`,
  ).toBe(expected);
}
