import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultRecoveryConfig } from '../../../src/config/recovery-config.js';
import { ErrorCode } from '../../../src/errors.js';
import { runHostAction } from '../../../src/executors/host-actions/run-host-action.js';
import { configWith, nodeArgv } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dg-host-params-'));
let server: Server;
let base: string;
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  server.close();
  await once(server, 'close');
});

describe('manual host actions', () => {
  it('asks a person to act, with the default instructions and the parameters filled in', async () => {
    const config = defaultRecoveryConfig();
    const result = await runHostAction('restore_backup', config, { artifact: 'pg-2025-01-02' }, { runId: 'run-1' });
    expect(result).toEqual({
      action: 'restore_backup',
      status: 'manual_required',
      by: 'manual',
      evidence: {
        instructions:
          "Restore backup pg-2025-01-02 into DecisionGraph's Postgres (pg_restore or your backup tool), check that it " +
          'completed without errors, and click Done',
      },
    });
    const restart = await runHostAction('restart_runtime', config, {}, { runId: 'run-1' });
    expect(restart.status).toBe('manual_required');
    expect(restart.by === 'manual' && restart.evidence.instructions).toBe(
      'Restart the DecisionGraph runtime (bin/decisiongraph_beam start, or your supervisor) and click Done',
    );
  });

  it('uses the configured instructions', async () => {
    const config = configWith({
      switch_release: { type: 'manual', instructions: 'Run deploy.sh {release} on dg-1 (run {run_id}), then Done' },
    });
    const result = await runHostAction('switch_release', config, { release: 'v1.4.2' }, { runId: 'run-5' });
    expect(result.by === 'manual' && result.evidence.instructions).toBe(
      'Run deploy.sh v1.4.2 on dg-1 (run run-5), then Done',
    );
  });

  it('refuses instructions whose placeholder has no value', async () => {
    await expect(
      runHostAction('switch_release', defaultRecoveryConfig(), {}, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterMissing, parameter: 'release' });
  });
});

describe('bad actions and parameters are refused before anything runs', () => {
  const marker = join(dir, 'ran');
  const commandConfig = configWith({
    restore_backup: { type: 'command', argv: ['/usr/bin/touch', marker, '{artifact}'], timeout_s: 5 },
    switch_release: { type: 'command', argv: ['/usr/bin/touch', marker, '--release={release}'], timeout_s: 5 },
  });

  it('refuses an unknown action, listing the valid ones', async () => {
    await expect(runHostAction('restart_everything', commandConfig, {}, { runId: 'run-1' })).rejects.toMatchObject({
      code: ErrorCode.HostActionUnknown,
      message: expect.stringContaining('restart_runtime, stop_runtime'),
    });
  });

  const injections: [string, string][] = [
    ['a space', 'pg 2025'],
    ['a semicolon', 'pg;rm -rf /'],
    ['command substitution', '$(reboot)'],
    ['backticks', '`reboot`'],
    ['a pipe', 'pg|sh'],
    ['an ampersand', 'pg&&reboot'],
    ['a redirect', 'pg>/etc/passwd'],
    ['a newline', 'pg\nreboot'],
    ['quotes', `pg'"`],
    ['a glob', 'pg*'],
    ['braces that look like a placeholder', '{run_id}'],
    ['a NUL byte', 'pg\0x'],
    ['non-ASCII look-alikes', 'pg‐2025'],
    ['an empty value', ''],
    ['201 characters', 'a'.repeat(201)],
  ];

  it.each(injections)('refuses a value with %s', async (_name, value) => {
    await expect(
      runHostAction('restore_backup', commandConfig, { artifact: value }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid, parameter: 'artifact' });
    expect(existsSync(marker)).toBe(false);
  });

  it('never echoes the refused value in the error', async () => {
    const err = await runHostAction('restore_backup', commandConfig, { artifact: 'x;EVIL' }, { runId: 'run-1' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: ErrorCode.HostActionParameterInvalid });
    expect((err as Error).message).not.toContain('EVIL');
  });

  it('refuses a value starting with "-" where it would become an argument', async () => {
    await expect(
      runHostAction('restore_backup', commandConfig, { artifact: '--help' }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid, parameter: 'artifact' });
    // Inside an element that starts with the option name it is still refused: a program may re-split it.
    await expect(
      runHostAction('switch_release', commandConfig, { release: '-x' }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid });
    expect(existsSync(marker)).toBe(false);
  });

  it('accepts the longest allowed value and every allowed character', async () => {
    const value = `A-Za-z0-9._:/@+${'x'.repeat(185)}`;
    expect(value).toHaveLength(200);
    const echo = configWith({
      restore_backup: {
        type: 'command',
        argv: nodeArgv('process.stdout.write(process.argv[1])', '{artifact}'),
        timeout_s: 5,
      },
    });
    const result = await runHostAction('restore_backup', echo, { artifact: value }, { runId: 'run-1' });
    expect(result.status).toBe('done');
    expect(result.by === 'command' && result.evidence.stdoutTail).toBe(value);
  });

  it('refuses a placeholder without a value, and unknown or forged parameters', async () => {
    await expect(runHostAction('restore_backup', commandConfig, {}, { runId: 'run-1' })).rejects.toMatchObject({
      code: ErrorCode.HostActionParameterMissing,
      parameter: 'artifact',
      where: 'argv',
    });
    await expect(
      runHostAction('restore_backup', commandConfig, { artifact: 'a', target: 'b' }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid, parameter: 'target' });
    await expect(
      runHostAction('restore_backup', commandConfig, { artifact: 'a', run_id: 'run-other' }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid, parameter: 'run_id' });
    await expect(
      runHostAction('restore_backup', commandConfig, { artifact: 'a' }, { runId: 'run 1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid, parameter: 'run_id' });
    expect(existsSync(marker)).toBe(false);
  });

  it('sends no request when a webhook parameter is missing or unsafe', async () => {
    const config = configWith({
      restore_backup: {
        type: 'http',
        method: 'POST',
        url: `${base}/restore?a={artifact}`,
        body: { release: '{release}' },
        timeout_s: 5,
      },
    });
    await expect(runHostAction('restore_backup', config, { artifact: 'a' }, { runId: 'run-1' })).rejects.toMatchObject({
      code: ErrorCode.HostActionParameterMissing,
      parameter: 'release',
      where: 'body',
    });
    await expect(
      runHostAction('restore_backup', config, { artifact: 'a&admin=1', release: 'v1' }, { runId: 'run-1' }),
    ).rejects.toMatchObject({ code: ErrorCode.HostActionParameterInvalid });
    expect(requests).toBe(0);
  });
});
