// Whether `dist/` holds a build of the current `src/`: every output is written by one `npm run build`, so the entry's
// time against the newest source file tells (a stat of each file, a few milliseconds).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function newestIn(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The compiled entry's path when it is at least as new as every file under `src/`; otherwise `undefined`. */
export function freshBuild(entry) {
  const compiled = join(root, 'dist', entry);
  try {
    return statSync(compiled).mtimeMs >= newestIn(join(root, 'src')) ? compiled : undefined;
  } catch {
    return undefined;
  }
}
