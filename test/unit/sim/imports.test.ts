import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The simulator stands in for DecisionGraph: sharing the bot's code would let a mistake in the bot agree with it.
// The product reaches it only through demo/main.ts, so its build ships none of it.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g;

/** `folder/file: specifier` for every relative import of a file under `folder` that lands under `forbidden`. */
function importsInto(folder: string, forbidden: string): string[] {
  const files = readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(10);
  return files.flatMap((file) =>
    [...readFileSync(join(root, folder, file), 'utf8').matchAll(SPECIFIER)]
      .map((m) => m[1] as string)
      .filter((spec) => spec.startsWith('.'))
      .filter((spec) => relative(root, resolve(root, folder, dirname(file), spec)).split(/[\\/]/)[0] === forbidden)
      .map((spec) => `${folder}/${file}: ${spec}`),
  );
}

describe('the simulator apart', () => {
  it.each([
    ['sim', 'src'],
    ['src', 'sim'],
    ['src', 'demo'],
  ])('%s/ imports nothing from %s/', (folder, forbidden) => {
    expect(importsInto(folder, forbidden)).toEqual([]);
  });
});
