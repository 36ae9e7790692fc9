#!/usr/bin/env node
// `npm start`'s first step: compiles `src/` when `dist/` is missing or older than the source, so the bot always runs
// compiled JavaScript that matches its source.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freshBuild } from './compiled.js';

if (!freshBuild('src/bot/main.js')) {
  process.stderr.write('dg-recovery: compiling src/ to dist/ (npm run build)\n');
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  });
}
