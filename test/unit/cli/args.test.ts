import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../../src/cli/args.js';
import { parseDemoArgs } from '../../../src/cli/demo-args.js';
import { usageText } from '../../../src/cli/usage.js';

const ok = (argv: string[]) => {
  const r = parseCliArgs(argv);
  if (!r.ok) throw new Error(`expected ${argv.join(' ')} to parse: ${r.message}`);
  return r.command;
};
const refused = (argv: string[]) => {
  const r = parseCliArgs(argv);
  if (r.ok) throw new Error(`expected ${argv.join(' ')} to be refused`);
  return r.message;
};

describe('dg-recovery arguments', () => {
  it('reads a recover command with every option, in either --opt value or --opt=value form', () => {
    expect(
      ok([
        'recover',
        'restart',
        '--trace',
        'trace-0001',
        '--tenant=acme',
        '--workflow',
        'wf-7',
        '--release',
        'v1.4.2',
        '--auto',
        '--as',
        'alice',
        '--approver',
        'bob',
        '--summary-dir',
        '/tmp/out',
      ]),
    ).toEqual({
      kind: 'recover',
      scenario: 'restart',
      traceId: 'trace-0001',
      tenantId: 'acme',
      workflowId: 'wf-7',
      release: 'v1.4.2',
      auto: true,
      as: 'alice',
      approver: 'bob',
      summaryDir: '/tmp/out',
    });
  });

  it('takes --upgraded-at as an ISO 8601 time with a zone and refuses anything else', () => {
    expect(ok(['recover', 'upgrade', '--upgraded-at', '2026-03-07T11:40:00Z'])).toMatchObject({
      scenario: 'upgrade',
      upgradedAt: '2026-03-07T11:40:00Z',
    });
    expect(refused(['recover', 'upgrade', '--upgraded-at=last night'])).toBe(
      '--upgraded-at needs an ISO 8601 time with a zone, e.g. 2026-03-07T11:40:00Z',
    );
  });

  it('resolves scenario aliases to the scenario they stand for', () => {
    expect(ok(['recover', 'reboot'])).toMatchObject({ kind: 'recover', scenario: 'restart', auto: false });
    expect(ok(['recover', 'Event_Log'])).toMatchObject({ scenario: 'event-log' });
  });

  it('refuses an unknown scenario, suggesting the closest one and listing them all', () => {
    const message = refused(['recover', 'restrat']);
    expect(message).toContain('unknown scenario "restrat"');
    expect(message).toContain('did you mean "restart"?');
    expect(message).toContain('restart, postgres, projections, event-log, upgrade');
    expect(refused(['recover', 'quantum'])).not.toContain('did you mean');
  });

  it('refuses unknown commands and options with a suggestion', () => {
    expect(refused(['recvoer', 'restart'])).toContain('did you mean "recover"?');
    expect(refused(['recover', 'restart', '--trce', 'x'])).toContain('did you mean --trace?');
    expect(refused(['status', '--auto'])).toContain('status does not take --auto');
  });

  it('refuses a missing scenario, a missing option value and a repeated option', () => {
    expect(refused(['recover'])).toContain('needs a scenario');
    expect(refused(['recover', 'restart', '--trace'])).toContain('--trace needs a value');
    expect(refused(['recover', 'restart', '--trace', '--auto'])).toContain('--trace needs a value');
    expect(refused(['recover', 'restart', '--as', 'a', '--as', 'b'])).toContain('given twice');
    expect(refused(['recover', 'restart', '--auto=yes'])).toContain('takes no value');
  });

  it('refuses an approver who is the starter: the two-person rule', () => {
    expect(refused(['recover', 'restart', '--as', 'alice', '--approver', 'alice'])).toContain('two-person rule');
  });

  it('refuses values with control characters (they would reach the terminal and the record)', () => {
    expect(refused(['recover', 'restart', '--trace', 'trace\u001b[2J'])).toContain('printable');
  });

  it('reads status, history, summary, diagnose and abort', () => {
    expect(ok(['status'])).toEqual({ kind: 'status' });
    expect(ok(['status', 'run-1a2b'])).toEqual({ kind: 'status', runId: 'run-1a2b' });
    expect(ok(['history'])).toEqual({ kind: 'history', limit: 10 });
    expect(ok(['history', '25'])).toEqual({ kind: 'history', limit: 25 });
    expect(ok(['summary', 'run-1a2b'])).toEqual({ kind: 'summary', runId: 'run-1a2b' });
    expect(ok(['diagnose', '--tenant', 'acme', '--current-release', 'v2'])).toEqual({
      kind: 'diagnose',
      tenantId: 'acme',
      currentRelease: 'v2',
    });
    expect(ok(['abort', 'run-1a2b', 'wrong', 'scenario', '--as', 'bob'])).toEqual({
      kind: 'abort',
      runId: 'run-1a2b',
      reason: 'wrong scenario',
      as: 'bob',
    });
  });

  it('refuses bad run ids, history lengths and an abort without a reason', () => {
    expect(refused(['status', 'run;rm'])).toContain('is not a run id');
    expect(refused(['summary'])).toContain('needs a run id');
    expect(refused(['history', '0'])).toContain('from 1 to 100');
    expect(refused(['history', '101'])).toContain('from 1 to 100');
    expect(refused(['history', 'ten'])).toContain('from 1 to 100');
    expect(refused(['abort', 'run-1a2b'])).toContain('needs a reason');
    expect(refused(['status', 'run-1', 'run-2'])).toContain('unexpected argument "run-2"');
  });

  it('reads resume with a run id and who answers; refuses a missing or bad run id and recover-only options', () => {
    expect(ok(['resume', 'run-1a2b3c4d5e', '--auto', '--as', 'ana', '--approver', 'bo'])).toEqual({
      kind: 'resume',
      runId: 'run-1a2b3c4d5e',
      auto: true,
      as: 'ana',
      approver: 'bo',
    });
    expect(ok(['resume', 'run-1a2b3c4d5e'])).toEqual({ kind: 'resume', runId: 'run-1a2b3c4d5e', auto: false });
    expect(refused(['resume'])).toContain('resume needs a run id');
    expect(refused(['resume', 'run 1'])).toContain('is not a run id');
    expect(refused(['resume', 'run-1a2b3c4d5e', '--trace', 't'])).toContain('resume does not take --trace');
    expect(usageText('resume')).toContain('dg-recovery resume <run>');
  });

  it('gives help for no words (marked bare), --help anywhere, and one command', () => {
    expect(ok([])).toEqual({ kind: 'help', bare: true });
    expect(ok(['--help'])).toEqual({ kind: 'help' });
    expect(ok(['recover', 'restart', '--help'])).toEqual({ kind: 'help', topic: 'recover' });
    expect(ok(['help', 'abort'])).toEqual({ kind: 'help', topic: 'abort' });
    expect(refused(['help', 'abrot'])).toContain('did you mean "abort"?');
  });

  it('takes --version, -V and version', () => {
    expect(ok(['--version'])).toEqual({ kind: 'version' });
    expect(ok(['-V'])).toEqual({ kind: 'version' });
    expect(ok(['version'])).toEqual({ kind: 'version' });
    expect(refused(['version', 'now'])).toContain('unexpected argument "now"');
  });

  it('turns colour off with --no-color', () => {
    const r = parseCliArgs(['status', '--no-color']);
    expect(r).toMatchObject({ ok: true, colour: 'never' });
  });
});

describe('dg-recovery arguments at the edges of the option grammar', () => {
  it('reads --opt=value and --opt value alike, options before or after the words', () => {
    const expected = ok(['recover', 'restart', '--tenant', 'acme', '--as', 'ana']);
    expect(ok(['recover', '--tenant=acme', 'restart', '--as=ana'])).toEqual(expected);
    expect(ok(['recover', '--as', 'ana', '--tenant=acme', 'restart'])).toEqual(expected);
    expect(ok(['recover', 'restart', '--as=-ana'])).toMatchObject({ as: '-ana' });
    expect(ok(['recover', 'restart', '--as', '-'])).toMatchObject({ as: '-' });
  });

  it('takes every word after -- as a word, options and --help included', () => {
    expect(ok(['abort', 'run-1a2b', '--', '--as', 'was', 'a', 'typo'])).toEqual({
      kind: 'abort',
      runId: 'run-1a2b',
      reason: '--as was a typo',
    });
    expect(ok(['recover', '--auto', '--', 'restart'])).toMatchObject({ scenario: 'restart', auto: true });
    expect(ok(['status', '--'])).toEqual({ kind: 'status' });
    expect(refused(['status', '--', '--help'])).toContain('"--help" is not a run id');
  });

  it('refuses a text option given twice in either form, and lets a flag repeat', () => {
    expect(refused(['recover', 'restart', '--as', 'a', '--as=b'])).toBe('--as given twice');
    expect(refused(['diagnose', '--tenant=a', '--tenant=a'])).toBe('--tenant given twice');
    expect(ok(['recover', 'restart', '--auto', '--auto'])).toMatchObject({ auto: true });
  });

  it('names an unknown option in our words, long, with a value, short or in a group of flags', () => {
    expect(refused(['recover', 'restart', '--trce=x'])).toBe('recover does not take --trce; did you mean --trace?');
    expect(refused(['status', '--verbose'])).toBe('status does not take --verbose');
    expect(refused(['diagnose', '--helpp'])).toBe('diagnose does not take --helpp; did you mean --help?');
    expect(refused(['status', '-x'])).toBe('unknown option -x');
    expect(refused(['status', '-hx'])).toBe('unknown option -hx');
    expect(refused(['history', '-5'])).toBe(
      'unknown option -5 (a word that starts with - goes after --, as in `-- -5`)',
    );
    expect(refused(['history', '--', '-5'])).toContain('from 1 to 100, not "-5"');
  });

  it('says which option lacks its value: at the end, before another option, empty, or one that starts with -', () => {
    expect(refused(['diagnose', '--tenant'])).toBe('--tenant needs a value');
    expect(refused(['diagnose', '--tenant', '--current-release', 'v2'])).toBe('--tenant needs a value');
    expect(refused(['diagnose', '--tenant='])).toBe('--tenant needs a value');
    expect(refused(['diagnose', '--tenant', ' '])).toBe('--tenant needs a value');
    expect(refused(['recover', 'restart', '--as', '-ana'])).toBe(
      '--as needs a value; a value that starts with - goes as --as=-ana',
    );
  });

  it('refuses a value given to a flag', () => {
    expect(refused(['resume', 'run-1a2b', '--auto=true'])).toBe('--auto takes no value');
    expect(refused(['status', '--no-color=1'])).toBe('--no-color takes no value');
  });

  it('reports the first problem in the order the words were typed', () => {
    expect(refused(['recover', 'restart', '--trace=', '--trce'])).toBe('--trace needs a value');
    expect(refused(['recover', 'restart', '--trce', '--trace='])).toContain('does not take --trce');
    expect(refused(['diagnose', '--tenant=a', '--tenant=b', '--auto'])).toBe('--tenant given twice');
    expect(refused(['diagnose', '--auto', '--tenant=a', '--tenant=b'])).toBe('diagnose does not take --auto');
  });

  it('never throws and never answers in Node parser words, whatever is typed', () => {
    const word = fc.oneof(
      fc.constantFrom('restart', 'run-1a2b', '--', '-', '-h', '--help', '--auto', '--as', '--trace=t', '-5', '-hx'),
      fc.string({ maxLength: 12 }).map((w) => `-${w}`),
      fc.string({ maxLength: 12 }).map((w) => `--${w}`),
      fc.string({ maxLength: 12 }),
    );
    const command = fc.constantFrom('recover', 'resume', 'status', 'history', 'summary', 'diagnose', 'abort', 'help');
    fc.assert(
      fc.property(command, fc.array(word, { maxLength: 6 }), (name, words) => {
        const r = parseCliArgs([name, ...words]);
        if (!r.ok)
          expect(r.message).not.toMatch(/Unknown option '|ambiguous|argument missing|does not take an argument/);
      }),
      { numRuns: 1000 },
    );
  });
});

/** The names a backend offers, as the simulator's first three variants. */
const VARIANTS = ['slow-replays', 'lagging-restore', 'orphaned-runs'];

describe('npm run demo arguments', () => {
  it('defaults to restart, answering automatically only when stdin is not a terminal', () => {
    expect(parseDemoArgs([], false, {}, VARIANTS)).toMatchObject({
      ok: true,
      options: { scenario: 'restart', auto: true },
    });
    expect(parseDemoArgs([], true, {}, VARIANTS)).toMatchObject({
      ok: true,
      options: { scenario: 'restart', auto: false },
    });
    expect(parseDemoArgs(['projections', '--auto'], true, {}, VARIANTS)).toMatchObject({
      ok: true,
      options: { scenario: 'projections', auto: true },
    });
    expect(parseDemoArgs(['--no-auto'], false, {}, VARIANTS)).toMatchObject({ ok: true, options: { auto: false } });
  });

  it('refuses an unknown scenario or a bad time scale', () => {
    expect(parseDemoArgs(['postgress'], false, {}, VARIANTS)).toMatchObject({ ok: false });
    expect(parseDemoArgs(['--time-scale', '0'], false, {}, VARIANTS)).toMatchObject({ ok: false });
  });

  it('reads --opt=value, the -- terminator and the last of --auto and --no-auto', () => {
    expect(parseDemoArgs(['--time-scale=0.5', '--', 'upgrade'], true, {}, VARIANTS)).toMatchObject({
      ok: true,
      options: { scenario: 'upgrade', timeScale: 0.5, auto: false },
    });
    expect(parseDemoArgs(['--auto', '--no-auto'], false, {}, VARIANTS)).toMatchObject({ options: { auto: false } });
    expect(parseDemoArgs(['--no-auto', '--auto'], true, {}, VARIANTS)).toMatchObject({ options: { auto: true } });
    expect(
      parseDemoArgs(['--redis-url', 'redis://x', '--summary-dir=out'], true, { REDIS_URL: 'redis://env' }, VARIANTS),
    ).toMatchObject({
      options: { redisUrl: 'redis://x', summaryDir: 'out' },
    });
  });

  it('refuses unknown options, missing values and a second scenario in its own words', () => {
    expect(parseDemoArgs(['--bogus'], false, {}, VARIANTS)).toEqual({ ok: false, message: 'unknown option --bogus' });
    expect(parseDemoArgs(['--time-scale'], false, {}, VARIANTS)).toEqual({
      ok: false,
      message: '--time-scale needs a value',
    });
    expect(parseDemoArgs(['--variant', '--auto'], false, {}, VARIANTS)).toEqual({
      ok: false,
      message: '--variant needs a value',
    });
    expect(parseDemoArgs(['--auto=1'], false, {}, VARIANTS)).toEqual({ ok: false, message: '--auto takes no value' });
    expect(parseDemoArgs(['restart', 'upgrade'], false, {}, VARIANTS)).toEqual({
      ok: false,
      message: 'unexpected argument "upgrade"',
    });
    expect(parseDemoArgs(['-h'], false, {}, VARIANTS)).toEqual({ ok: 'help' });
  });

  it('takes simulator variants by name and refuses an unknown one, listing the valid ones', () => {
    expect(
      parseDemoArgs(['upgrade', '--variant', 'slow-replays', '--variant', 'orphaned-runs'], false, {}, VARIANTS),
    ).toMatchObject({ ok: true, options: { scenario: 'upgrade', variants: ['slow-replays', 'orphaned-runs'] } });
    expect(parseDemoArgs([], false, {}, VARIANTS)).toMatchObject({ ok: true, options: { variants: [] } });
    const refused = parseDemoArgs(['upgrade', '--variant', 'slow'], false, {}, VARIANTS);
    expect(refused).toMatchObject({ ok: false, message: expect.stringContaining('unknown variant "slow"; valid') });
    for (const name of ['slow-replays', 'lagging-restore', 'orphaned-runs']) {
      expect(refused).toMatchObject({ message: expect.stringContaining(name) });
    }
  });
});

describe('dg-recovery help', () => {
  it('says that --auto decides but never approves, and that a role that can write is refused', () => {
    const recover = usageText('recover');
    expect(recover).toMatch(/--auto\s+take the recommended option at each decision; never approves/);
    expect(recover).toContain('without a terminal on stdin, the run is left waiting');
    expect(recover).toContain(
      "Refuses to start (exit status 1) when the role in DG_DATABASE_URL can write to DecisionGraph's",
    );
    expect(recover).not.toContain('approve as a second operator');
    expect(usageText()).toContain('DG_DATABASE_URL must use a read-only (SELECT-only) role');
  });
});
