import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Access,
  channelAllowed,
  DEFAULT_MANUAL_INSTRUCTIONS,
  defaultRecoveryConfig,
  HOST_ACTION_NAMES,
  type HttpAction,
  isApprover,
  isOperator,
  loadRecoveryConfig,
  mayApprove,
  parseRecoveryConfig,
  type RecoveryConfig,
} from '../../../src/config/recovery-config.js';
import { ErrorCode, RecoveryConfigInvalidError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dg-recovery-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE = `
actions:
  restart_runtime: {type: http, method: POST, url: http://127.0.0.1:4199/restart, timeout_s: 30}
  stop_runtime:    {type: command, argv: [systemctl, stop, decisiongraph], timeout_s: 60}
  restore_backup:
    type: command
    argv: [/usr/local/bin/dg-restore, --artifact, "{artifact}", --run, "{run_id}"]
    timeout_s: 3600
  switch_release:
    type: manual
    instructions: Deploy {release} with the release pipeline, then click Done
access:
  operators: [U012ABC, S0OPS]   # Slack user or user-group ids allowed to start and abort runs
  approvers: [U034DEF]          # allowed to approve destructive steps
  channels: []                  # empty: any channel
  two_person_rule: true
release:
  previous_known_good: v1
`;

function parse(text: string, env: Record<string, string | undefined> = {}): RecoveryConfig {
  return parseRecoveryConfig(text, 'recovery.yaml', env);
}

/** The problem lines of the error `text` raises; fails the test when it parses. */
function problemsOf(text: string, env: Record<string, string | undefined> = {}): string[] {
  try {
    parse(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(RecoveryConfigInvalidError);
    const invalid = err as RecoveryConfigInvalidError;
    expect(invalid.code).toBe(ErrorCode.RecoveryConfigInvalid);
    expect(invalid.path).toBe('recovery.yaml');
    return [...invalid.problems];
  }
  throw new Error('expected the config to be rejected');
}

describe('a valid recovery config', () => {
  it('reads actions, access and release, and defaults every action left out to manual', () => {
    const config = parse(EXAMPLE);
    expect(config.source).toBe('recovery.yaml');
    expect(config.actions.restart_runtime).toEqual({
      type: 'http',
      method: 'POST',
      url: 'http://127.0.0.1:4199/restart',
      body: undefined,
      timeoutSeconds: 30,
    });
    expect(config.actions.stop_runtime).toEqual({
      type: 'command',
      argv: ['systemctl', 'stop', 'decisiongraph'],
      timeoutSeconds: 60,
    });
    expect(config.actions.restore_backup).toMatchObject({
      argv: ['/usr/local/bin/dg-restore', '--artifact', '{artifact}', '--run', '{run_id}'],
      timeoutSeconds: 3600,
    });
    expect(config.actions.switch_release).toEqual({
      type: 'manual',
      instructions: 'Deploy {release} with the release pipeline, then click Done',
    });
    for (const name of [
      'start_runtime',
      'restore_postgres',
      'stop_writes',
      'preserve_database',
      'list_backups',
    ] as const) {
      expect(config.actions[name]).toEqual({ type: 'manual', instructions: DEFAULT_MANUAL_INSTRUCTIONS[name] });
    }
    expect(config.access).toEqual({
      operators: ['U012ABC', 'S0OPS'],
      approvers: ['U034DEF'],
      channels: [],
      twoPersonRule: true,
    });
    expect(config.release.previousKnownGood).toBe('v1');
  });

  it('is frozen, so no component can change it at run time', () => {
    const config = parse(EXAMPLE);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.access.operators)).toBe(true);
    expect(Object.isFrozen(config.actions.stop_runtime)).toBe(true);
  });

  it('accepts a method in any case, a fractional timeout and a JSON body with placeholders', () => {
    const config = parse(`
actions:
  restore_backup:
    type: http
    method: put
    url: "https://hooks.example.test/restore/{artifact}?run={run_id}"
    body: {artifact: "{artifact}", dry_run: false, tags: [dr, "{run_id}"], meta: null}
    timeout_s: 0.5
`);
    expect(config.actions.restore_backup).toMatchObject({
      method: 'PUT',
      timeoutSeconds: 0.5,
      body: { artifact: '{artifact}', dry_run: false, tags: ['dr', '{run_id}'], meta: null },
    });
  });

  it('has a default instruction for every action, naming the parameter it needs', () => {
    for (const name of HOST_ACTION_NAMES) expect(DEFAULT_MANUAL_INSTRUCTIONS[name]).toMatch(/click Done/);
    expect(DEFAULT_MANUAL_INSTRUCTIONS.restart_runtime).toBe(
      'Restart the DecisionGraph runtime (bin/decisiongraph_beam start, or your supervisor) and click Done',
    );
    expect(DEFAULT_MANUAL_INSTRUCTIONS.restore_backup).toContain('{artifact}');
    expect(DEFAULT_MANUAL_INSTRUCTIONS.switch_release).toContain('{release}');
  });

  it('opens access and keeps the two-person rule when the access section is left out', () => {
    const config = parse('release: {previous_known_good: 0a1b2c3}\n');
    expect(config.access).toEqual({ operators: null, approvers: null, channels: [], twoPersonRule: true });
    expect(config.release.previousKnownGood).toBe('0a1b2c3');
  });

  it('lets a deployment turn the two-person rule off explicitly', () => {
    expect(parse('access: {two_person_rule: false}\n').access.twoPersonRule).toBe(false);
  });
});

describe('without RECOVERY_CONFIG', () => {
  it('makes every action manual and lets anyone operate and approve, two-person rule still on', async () => {
    const config = await loadRecoveryConfig(undefined, { PATH: '/usr/bin' });
    expect(config.source).toBeNull();
    for (const name of HOST_ACTION_NAMES) expect(config.actions[name].type).toBe('manual');
    expect(isOperator(config.access, 'U999')).toBe(true);
    expect(isApprover(config.access, 'U999')).toBe(true);
    expect(channelAllowed(config.access, 'C123')).toBe(true);
    expect(mayApprove(config.access, { userId: 'U1', startedBy: 'U1' })).toEqual({
      ok: false,
      reason: 'two_person_rule',
    });
    expect(mayApprove(config.access, { userId: 'U2', startedBy: 'U1' })).toEqual({ ok: true });
    expect(await loadRecoveryConfig('', {})).toEqual(defaultRecoveryConfig());
  });
});

describe('loading the file', () => {
  it('reads the file RECOVERY_CONFIG names', async () => {
    const path = join(dir, 'ok.yaml');
    writeFileSync(path, EXAMPLE);
    const config = await loadRecoveryConfig(path, {});
    expect(config.source).toBe(path);
    expect(config.actions.stop_runtime.type).toBe('command');
  });

  it('refuses a path that names no file instead of falling back to defaults', async () => {
    const path = join(dir, 'missing.yaml');
    const err = await loadRecoveryConfig(path, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryConfigInvalidError);
    expect(err).toMatchObject({ code: ErrorCode.RecoveryConfigInvalid, path });
    expect((err as RecoveryConfigInvalidError).problems[0]).toMatch(/^file not found/);
    expect((err as Error).message).toContain(path);
  });

  it('refuses a directory and an empty file', async () => {
    await expect(loadRecoveryConfig(dir, {})).rejects.toMatchObject({ problems: ['is a directory, not a YAML file'] });
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '# nothing configured yet\n');
    await expect(loadRecoveryConfig(empty, {})).rejects.toMatchObject({
      problems: [expect.stringContaining('the file is empty')],
    });
  });
});

describe('invalid files: one line per problem, each naming its key', () => {
  it('reports YAML syntax errors with their line', () => {
    expect(problemsOf('actions:\n  stop_runtime: {type: command, argv: [a\n')[0]).toMatch(
      /^YAML syntax: .* at line \d+, column \d+$/,
    );
  });

  it('reports a key given twice', () => {
    const problems = problemsOf('access:\n  operators: [U1A]\n  operators: [U2B]\n');
    expect(problems[0]).toMatch(/^YAML syntax: Map keys must be unique at line 3/);
  });

  it('refuses a file that is not a mapping', () => {
    expect(problemsOf('- restart_runtime\n')).toEqual([
      '(top level): the file must be a YAML mapping with actions, access and release',
    ]);
  });

  it('refuses unknown keys (typos) at every level', () => {
    expect(
      problemsOf(`
acess: {}
actions:
  stop_runtime: {type: command, argv: [systemctl], timeout: 60}
access:
  approver: [U1A]
release:
  previous_known_god: v1
`),
    ).toEqual([
      'acess (line 2): unknown key',
      'actions.stop_runtime.timeout_s (line 4): is required (seconds)',
      'actions.stop_runtime.timeout (line 4): unknown key',
      'access.approver (line 6): unknown key',
      'release.previous_known_god (line 8): unknown key',
    ]);
  });

  it('refuses an unknown action, listing the valid ones', () => {
    expect(problemsOf('actions:\n  restart_node: {type: manual}\n')).toEqual([
      'actions.restart_node (line 2): unknown action; valid actions: restart_runtime, stop_runtime, start_runtime, ' +
        'restore_postgres, stop_writes, preserve_database, list_backups, restore_backup, switch_release',
    ]);
  });

  it('refuses a missing, unknown or misplaced type', () => {
    expect(
      problemsOf(`
actions:
  stop_runtime: {argv: [systemctl], timeout_s: 5}
  start_runtime: {type: shell}
  stop_writes: manual
`),
    ).toEqual([
      'actions.stop_runtime.type (line 3): is required (manual, command or http)',
      'actions.start_runtime.type (line 4): must be one of manual, command, http',
      'actions.stop_writes (line 5): must be a mapping with a type (manual, command or http)',
    ]);
  });

  it('checks command actions', () => {
    expect(
      problemsOf(`
actions:
  stop_runtime: {type: command, argv: [], timeout_s: 0}
  start_runtime: {type: command, argv: systemctl start dg, timeout_s: 90000}
  restore_backup: {type: command, argv: [restore, "{backup}", ""], timeout_s: "60"}
  switch_release: {type: command, argv: [deploy, "\${env:RELEASE}"], timeout_s: 10, instructions: x}
`),
    ).toEqual([
      'actions.stop_runtime.argv (line 3): must name the program to run',
      'actions.stop_runtime.timeout_s (line 3): must be more than 0 seconds',
      'actions.start_runtime.argv (line 4): must be a list of strings, program first',
      'actions.start_runtime.timeout_s (line 4): must be at most 86400 seconds',
      'actions.restore_backup.argv.1 (line 5): argument uses unknown placeholder {backup}; valid: {artifact}, {release}, {run_id}',
      'actions.restore_backup.argv.2 (line 5): must not be empty',
      'actions.restore_backup.timeout_s (line 5): must be a number of seconds',
      `actions.switch_release.argv.1 (line 6): argument cannot use \${env:...}; only header values can`,
      'actions.switch_release.instructions (line 6): unknown key',
    ]);
  });

  it('checks http actions', () => {
    expect(
      problemsOf(`
actions:
  restart_runtime: {type: http, method: FETCH, url: "ftp://host/x", timeout_s: 5}
  stop_runtime: {type: http, method: POST, url: "http://{release}.internal/stop", timeout_s: 5}
  start_runtime: {type: http, url: "http://h/start", timeout_s: 5}
  list_backups: {type: http, method: GET, url: "http://h/list", body: {a: 1}, timeout_s: 5}
  restore_backup:
    type: http
    method: POST
    url: http://h/restore
    headers: {Idempotency-Key: x, "Bad Header": y, X-Count: 3}
    body: {artifact: "{artefact}"}
`),
    ).toEqual([
      'actions.restart_runtime.method (line 3): must be GET, POST, PUT, PATCH or DELETE',
      'actions.restart_runtime.url (line 3): must be an http(s) URL',
      'actions.stop_runtime.url (line 4): placeholders may appear only in the path and query, not the host',
      'actions.start_runtime.method (line 5): is required (GET, POST, PUT, PATCH or DELETE)',
      'actions.list_backups.body (line 6): a GET request cannot carry a body',
      'actions.restore_backup.timeout_s (line 7): is required (seconds)',
      'actions.restore_backup.headers.Bad Header (line 11): is not a valid header name',
      'actions.restore_backup.headers.X-Count (line 11): header values must be strings',
    ]);
  });

  it('checks placeholders in a JSON body once the rest of the action is valid', () => {
    expect(
      problemsOf(`
actions:
  restore_backup:
    type: http
    method: POST
    url: http://h/restore
    timeout_s: 5
    headers: {Idempotency-Key: x}
    body: {artifact: "{artefact}"}
`),
    ).toEqual(['actions.restore_backup.headers.Idempotency-Key (line 8): is set by the bot and cannot be configured']);
    expect(
      problemsOf(`
actions:
  restore_backup:
    type: http
    method: POST
    url: http://h/restore
    timeout_s: 5
    body: {items: [{artifact: "{artefact}"}]}
`),
    ).toEqual([
      'actions.restore_backup.body.items.0.artifact (line 8): body value uses unknown placeholder {artefact}; ' +
        'valid: {artifact}, {release}, {run_id}',
    ]);
  });

  it('checks manual instructions', () => {
    expect(
      problemsOf(`
actions:
  restore_backup: {type: manual, instructions: "  "}
  switch_release: {type: manual, instructions: "Deploy {version}"}
`),
    ).toEqual([
      'actions.restore_backup.instructions (line 3): must not be empty',
      'actions.switch_release.instructions (line 4): instructions uses unknown placeholder {version}; valid: ' +
        '{artifact}, {release}, {run_id}',
    ]);
  });

  it('checks access lists and the release', () => {
    expect(
      problemsOf(`
access:
  operators: [U012ABC, alice]
  approvers: []
  channels: [general]
  two_person_rule: "yes"
release:
  previous_known_good: "--force"
`),
    ).toEqual([
      'access.operators.1 (line 3): must be Slack user (U…, W…) or user-group (S…) ids',
      'access.approvers (line 4): must list at least one id; leave the key out to let anyone approve',
      'access.channels.0 (line 5): must be Slack channel ids (C…, G…, D…)',
      'access.two_person_rule (line 6): must be true or false',
      'release.previous_known_good (line 8): must not start with "-"',
    ]);
    expect(problemsOf('access: [U1A]\nrelease: {previous_known_good: "v1; rm"}\n')).toEqual([
      'access (line 1): must be a mapping (operators, approvers, channels, two_person_rule)',
      'release.previous_known_good (line 2): must be 1-200 characters of A-Z a-z 0-9 . _ : / @ + -',
    ]);
  });

  it('puts every problem into the error message, one per line', () => {
    const err = (() => {
      try {
        parse('access: {operators: [x]}\nactions: {foo: {type: manual}}\n');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a failure');
    })();
    expect(err.message.split('\n')).toEqual([
      'invalid recovery config recovery.yaml:',
      expect.stringMatching(/^ {2}- access\.operators\.0 \(line 1\): /),
      expect.stringMatching(/^ {2}- actions\.foo \(line 2\): unknown action/),
    ]);
  });
});

describe('environment references in header values', () => {
  const WITH_HEADERS = `
actions:
  restart_runtime:
    type: http
    method: POST
    url: http://127.0.0.1:4199/restart
    timeout_s: 30
    headers:
      Authorization: "Bearer \${env:HOOK_TOKEN}"
      X-Signature: "\${env:HOOK_KEY_ID}:\${env:HOOK_SIG}"
      X-Team: ops
`;
  const ENV = { HOOK_TOKEN: 'tok-3f9a', HOOK_KEY_ID: 'k1', HOOK_SIG: 'sig-77c2' };

  it('resolves references from the injected environment', () => {
    const action = parse(WITH_HEADERS, ENV).actions.restart_runtime as HttpAction;
    expect(action.headers).toEqual({ Authorization: 'Bearer tok-3f9a', 'X-Signature': 'k1:sig-77c2', 'X-Team': 'ops' });
    expect(action.secretValues).toEqual(['tok-3f9a', 'k1', 'sig-77c2']);
  });

  it('keeps resolved secrets out of anything that serialises the config', () => {
    const config = parse(WITH_HEADERS, ENV);
    const serialised = JSON.stringify(config) + JSON.stringify({ ...config.actions.restart_runtime });
    expect(serialised).not.toContain('tok-3f9a');
    expect(serialised).not.toContain('sig-77c2');
  });

  it('names the missing variable, never the values of the others', () => {
    const problems = problemsOf(WITH_HEADERS, { HOOK_TOKEN: 'tok-3f9a', HOOK_KEY_ID: '' });
    expect(problems).toEqual([
      'actions.restart_runtime.headers.X-Signature (line 10): environment variable HOOK_KEY_ID is not set',
      'actions.restart_runtime.headers.X-Signature (line 10): environment variable HOOK_SIG is not set',
    ]);
    expect(problems.join('\n')).not.toContain('tok-3f9a');
  });

  it('refuses malformed references and values that would split the header', () => {
    const text = `
actions:
  restart_runtime:
    type: http
    method: POST
    url: http://h/restart
    timeout_s: 5
    headers: {A: "\${HOOK_TOKEN}", B: "\${env:bad-name}", C: "\${env:MULTI}"}
`;
    expect(problemsOf(text, { MULTI: 'a\r\nX-Injected: 1' })).toEqual([
      `actions.restart_runtime.headers.A (line 8): malformed reference; write \${env:NAME} with NAME made of letters, digits and _`,
      `actions.restart_runtime.headers.B (line 8): malformed reference; write \${env:NAME} with NAME made of letters, digits and _`,
      `actions.restart_runtime.headers.C (line 8): value contains a line break or NUL (after resolving \${env:...})`,
    ]);
  });
});

describe('the command environment', () => {
  it('takes only the harmless variables from the bot environment', () => {
    const config = parse(EXAMPLE, { PATH: '/usr/bin', HOME: '/home/dg', DG_API_TOKEN: 'x', DATABASE_URL: 'y' });
    expect(config.commandEnv).toEqual({ PATH: '/usr/bin', HOME: '/home/dg' });
  });
});

describe('access helpers', () => {
  const access: Access = parse(EXAMPLE).access;

  it('lets listed users and members of listed user groups operate', () => {
    expect(isOperator(access, 'U012ABC')).toBe(true);
    expect(isOperator(access, 'U777', ['S0OPS'])).toBe(true);
    expect(isOperator(access, 'U777', ['S0OTHER'])).toBe(false);
    expect(isOperator(access, 'U034DEF')).toBe(false);
  });

  it('lets only approvers approve, and never the person who started the run', () => {
    expect(isApprover(access, 'U034DEF')).toBe(true);
    expect(isApprover(access, 'U012ABC')).toBe(false);
    expect(mayApprove(access, { userId: 'U012ABC', startedBy: 'U034DEF' })).toEqual({
      ok: false,
      reason: 'not_an_approver',
    });
    expect(mayApprove(access, { userId: 'U034DEF', startedBy: 'U034DEF' })).toEqual({
      ok: false,
      reason: 'two_person_rule',
    });
    expect(mayApprove(access, { userId: 'U034DEF', startedBy: 'U012ABC' })).toEqual({ ok: true });
    const solo = parse('access: {approvers: [U034DEF], two_person_rule: false}\n').access;
    expect(mayApprove(solo, { userId: 'U034DEF', startedBy: 'U034DEF' })).toEqual({ ok: true });
  });

  it('limits channels only when some are listed', () => {
    expect(channelAllowed(access, 'C0ANY')).toBe(true);
    const limited = parse('access: {channels: [C0INCIDENT, G0PRIVATE]}\n').access;
    expect(channelAllowed(limited, 'C0INCIDENT')).toBe(true);
    expect(channelAllowed(limited, 'G0PRIVATE')).toBe(true);
    expect(channelAllowed(limited, 'C0RANDOM')).toBe(false);
  });
});
