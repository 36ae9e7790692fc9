#!/usr/bin/env node
// The `dg-recovery` command: the compiled build when it matches the source (`npm run build`), else the TypeScript
// entry through tsx's loader, so that no build step is needed.
import { pathToFileURL } from 'node:url';
import { freshBuild } from './compiled.js';

const compiled = freshBuild('src/cli/main.js');
if (compiled) {
  const { main } = await import(pathToFileURL(compiled).href);
  await main();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli/main.ts');
  await main();
}
