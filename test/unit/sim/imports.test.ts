import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The simulator stands in for DecisionGraph: sharing the bot's code would let a mistake in the bot agree with it.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g;

describe('sim/', () => {
  it('imports nothing from src/', () => {
    const files = readdirSync(join(root, 'sim'), { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.ts'),
    );
    expect(files.length).toBeGreaterThan(10);
    const offending = files.flatMap((file) =>
      [...readFileSync(join(root, 'sim', file), 'utf8').matchAll(SPECIFIER)]
        .map((m) => m[1] as string)
        .filter(
          (spec) => spec.startsWith('.') && relative(root, resolve(root, 'sim', dirname(file), spec)).startsWith('src'),
        )
        .map((spec) => `sim/${file}: ${spec}`),
    );
    expect(offending).toEqual([]);
  });
});
