import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm start` with a broken set-up: every problem is printed in the first run, the Slack values included, and
// nothing is connected to.

const ROOT = resolve(import.meta.dirname, '../../..');

function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bot/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((done) => child.on('close', (code) => done({ code, stderr })));
}

describe('npm start with a broken configuration', () => {
  it('stops with every problem at once: the databases, the Slack values and the recovery config file', async () => {
    const { code, stderr } = await start({
      DG_BASE_URL: 'http://127.0.0.1:4100',
      DG_API_TOKEN: 'reader-token',
      DG_DATABASE_URL: 'postgres://dg_ro:pw@/decisiongraph',
      DG_KNOWN_TRACE_ID: 'trace-1',
      DATABASE_URL: 'postgres://bot:hunter%zz@127.0.0.1/dgbot',
      RECOVERY_CONFIG: 'no-such-recovery.yaml',
    });
    expect(code).toBe(1);
    const lines = stderr.split('\n').map((l) => l.replace(/^\s+- /, '').split(':')[0]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'DG_DATABASE_URL',
        'DATABASE_URL',
        'SLACK_BOT_TOKEN',
        'SLACK_SIGNING_SECRET',
        'RECOVERY_CONFIG no-such-recovery.yaml',
      ]),
    );
    expect(stderr).toContain('DG_ERR_CONFIG_INVALID');
    expect(stderr).not.toContain('hunter');
  });
});
