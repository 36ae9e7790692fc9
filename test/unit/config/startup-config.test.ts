import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { loadRecoveryConfig } from '../../../src/config/recovery-config.js';
import { loadStartupConfig } from '../../../src/config/startup-config.js';
import { ConfigInvalidError, ErrorCode, RecoveryConfigInvalidError } from '../../../src/errors.js';

// Start-up reads the environment and the recovery config file in one pass: a person fixing the set-up sees every
// problem at once, Slack's values included, each naming the variable or the file and never a value.

const VALID = {
  DG_BASE_URL: 'http://127.0.0.1:4100',
  DG_API_TOKEN: 'reader-secret-value',
  DG_DATABASE_URL: 'postgres://dg_ro:pw-secret@127.0.0.1:5432/decisiongraph',
  DG_KNOWN_TRACE_ID: 'trace-0001',
  DATABASE_URL: 'postgres://bot@127.0.0.1:5432/dgbot',
  SLACK_BOT_TOKEN: 'xoxb-1-secret',
  SLACK_SIGNING_SECRET: 'signing-secret-value',
};

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-startup-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function problemsOf(promise: Promise<unknown>): Promise<{ code: string; problems: readonly string[] }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigInvalidError || err instanceof RecoveryConfigInvalidError)) {
    throw new Error(`expected a configuration error, got ${String(err)}`);
  }
  return { code: err.code, problems: err.problems };
}

describe('database URLs', () => {
  it.each([
    ['no host', 'postgres:///dgbot'],
    ['a port out of range', 'postgres://bot@db.internal:99999/dgbot'],
    ['a space in the host', 'postgres://bot@db internal/dgbot'],
    ['a broken escape in the password', 'postgres://bot:hunter%zz@db.internal/dgbot'],
  ])('refuses one with %s, for both variables, without echoing it', (_, url) => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ ...VALID, DATABASE_URL: url, DG_DATABASE_URL: url });
    } catch (err) {
      problems = (err as ConfigInvalidError).problems;
    }
    expect(problems).toEqual([
      'DG_DATABASE_URL: must be a well-formed postgres://user:password@host:port/database URL',
      'DATABASE_URL: must be a well-formed postgres://user:password@host:port/database URL',
    ]);
    expect(problems.join('\n')).not.toContain('hunter');
  });

  it('takes a socket directory given as host=', () => {
    const config = loadConfig({ ...VALID, DATABASE_URL: 'postgres:///dgbot?host=/var/run/postgresql' });
    expect(config.databaseUrl).toBe('postgres:///dgbot?host=/var/run/postgresql');
  });
});

describe('every problem in the first pass', () => {
  it('lists the environment, the Slack values and the recovery config file together', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'access:\n  operators: [U1\n');
    const { code, problems } = await problemsOf(
      loadStartupConfig(
        {
          ...VALID,
          DG_BASE_URL: undefined,
          SLACK_BOT_TOKEN: 'xapp-not-a-bot-token',
          SLACK_SIGNING_SECRET: '',
          APPROVAL_REMINDER_MINUTES: '30',
          APPROVAL_TIMEOUT_MINUTES: '20',
          RECOVERY_CONFIG: file,
        },
        { requireSlack: true },
      ),
    );
    expect(code).toBe(ErrorCode.ConfigInvalid);
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'DG_BASE_URL',
      'APPROVAL_TIMEOUT_MINUTES',
      'SLACK_BOT_TOKEN',
      'SLACK_SIGNING_SECRET',
      'start with --workers-only to run the job workers without Slack',
      `RECOVERY_CONFIG ${file}`,
    ]);
    expect(problems.at(-1)).toMatch(/: YAML syntax: .* at line \d+, column \d+$/);
    expect(problems.join('\n')).not.toContain('xapp-not-a-bot-token');
  });

  it('leaves the Slack values alone for the workers, and keeps a file problem alone as its own error', async () => {
    const file = join(dir, 'unknown-key.yaml');
    await writeFile(file, 'acess: {}\n');
    const { code, problems } = await problemsOf(
      loadStartupConfig({ ...VALID, SLACK_BOT_TOKEN: undefined, RECOVERY_CONFIG: file }),
    );
    expect(code).toBe(ErrorCode.RecoveryConfigInvalid);
    expect(problems).toEqual([expect.stringMatching(/^acess \(line 1\): unknown key/)]);
  });

  it('returns both configurations when everything is in order', async () => {
    const { config, recovery } = await loadStartupConfig(VALID, { requireSlack: true });
    expect(config.slack.botToken).toBe('xoxb-1-secret');
    expect(recovery.access.twoPersonRule).toBe(true);
  });
});

describe('YAML errors found while reading the values', () => {
  it.each([
    ['an unresolved alias', 'access: *nowhere\n'],
    ['an alias bomb', `a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [${'*a,'.repeat(9)}*a]\nc: [${'*b,'.repeat(59)}*b]\n`],
  ])('names the file for %s', async (_, text) => {
    const file = join(dir, 'aliases.yaml');
    await writeFile(file, text);
    const err = await loadRecoveryConfig(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryConfigInvalidError);
    expect((err as RecoveryConfigInvalidError).code).toBe(ErrorCode.RecoveryConfigInvalid);
    expect((err as RecoveryConfigInvalidError).message).toContain(file);
    expect((err as RecoveryConfigInvalidError).problems).toEqual([expect.stringMatching(/^YAML: /)]);
  });
});
