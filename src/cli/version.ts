import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `version` of dg-recovery's package.json, found from this module up (source tree or compiled `dist/`). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dg-recovery' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here: look one level up.
    }
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
