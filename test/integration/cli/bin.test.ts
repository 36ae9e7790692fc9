import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../helpers/run-to-end.js';

// `dg-recovery` as a person types it: the real bin script in a child process, nothing to connect to.

const bin = (...args: string[]) =>
  runToEnd(process.execPath, ['bin/dg-recovery.js', ...args], { ...process.env, NO_COLOR: '1' });

describe('dg-recovery', () => {
  it('prints its version with --version, and exits 0', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const [long, short] = await Promise.all([bin('--version'), bin('-V')]);
    for (const r of [long, short]) {
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`dg-recovery ${version}`);
    }
  }, 30_000);

  it('with no command, prints the help on stderr and exits 2', async () => {
    const r = await bin();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('dg-recovery: no command given.');
    expect(r.stderr).toContain('dg-recovery recover <scenario>');
  }, 30_000);

  it('prints the help on stdout and exits 0 when asked for it', async () => {
    const r = await bin('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('dg-recovery recover <scenario>');
  }, 30_000);
});
