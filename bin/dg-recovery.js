#!/usr/bin/env node
// The `dg-recovery` command: runs the TypeScript entry through tsx's loader, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main();
