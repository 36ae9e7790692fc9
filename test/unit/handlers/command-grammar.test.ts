import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DgCommand,
  DgCommandSchema,
  MAX_REASON_LENGTH,
  parseCommand,
  renderCommand,
  SCENARIO_ALIASES,
  SCENARIOS,
} from '../../../src/handlers/command-grammar.js';
import { safeText } from '../../../src/outside-text.js';
import { closestWord, editDistance } from '../../../src/runbook/did-you-mean.js';

function ok(text: string): DgCommand {
  const result = parseCommand(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got ${result.error.message}`);
  return result.command;
}

function err(text: string) {
  const result = parseCommand(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('recover', () => {
  it('parses a scenario with trace and tenant in any order and case', () => {
    expect(ok('recover restart')).toEqual({ kind: 'recover', scenario: 'restart' });
    expect(ok('  Recover  POSTGRES  TENANT=acme  trace=tr-1:a.b_c ')).toEqual({
      kind: 'recover',
      scenario: 'postgres',
      traceId: 'tr-1:a.b_c',
      tenantId: 'acme',
    });
    expect(ok('recover trace=abc projections')).toEqual({ kind: 'recover', scenario: 'projections', traceId: 'abc' });
  });

  it('maps every alias to its scenario', () => {
    for (const [alias, scenario] of Object.entries(SCENARIO_ALIASES)) {
      expect(ok(`recover ${alias}`)).toEqual({ kind: 'recover', scenario });
    }
    expect(ok('recover reboot')).toEqual({ kind: 'recover', scenario: 'restart' });
    expect(ok('recover event_log')).toEqual({ kind: 'recover', scenario: 'event-log' });
    expect(ok('recover failed-upgrade')).toEqual({ kind: 'recover', scenario: 'upgrade' });
  });

  it('asks for a scenario and lists them when none is given', () => {
    const e = err('recover');
    expect(e.code).toBe('missing_argument');
    expect(e.command).toBe('recover');
    for (const s of SCENARIOS) expect(e.message).toContain(`\`${s}\``);
  });

  it('suggests the closest scenario for a typo', () => {
    expect(err('recover restrat')).toMatchObject({ code: 'unknown_scenario', suggestion: 'restart' });
    expect(err('recover postgers')).toMatchObject({ code: 'unknown_scenario', suggestion: 'postgres' });
    expect(err('recover projectons')).toMatchObject({ code: 'unknown_scenario', suggestion: 'projections' });
    expect(err('recover restrat').message).toContain('did you mean `restart`?');
  });

  it('lists the scenarios when nothing is close', () => {
    const e = err('recover kubernetes');
    expect(e.suggestion).toBeUndefined();
    expect(e.message).toContain('`event-log`');
  });

  it('rejects a second positional word, an unknown option, a duplicate and an empty value', () => {
    expect(err('recover restart api')).toMatchObject({ code: 'unexpected_argument', command: 'recover' });
    expect(err('recover restart trce=abc')).toMatchObject({ code: 'unknown_option', suggestion: 'trace=' });
    expect(err('recover restart trace=a trace=b')).toMatchObject({ code: 'duplicate_option' });
    expect(err('recover restart trace=')).toMatchObject({ code: 'missing_argument' });
  });

  it('rejects ids outside 1–200 of [A-Za-z0-9._:-]', () => {
    expect(ok(`recover restart trace=${'a'.repeat(200)}`)).toMatchObject({ traceId: 'a'.repeat(200) });
    expect(err(`recover restart trace=${'a'.repeat(201)}`)).toMatchObject({ code: 'invalid_argument' });
    expect(err('recover restart tenant=a/b')).toMatchObject({ code: 'invalid_argument' });
    expect(err('recover restart trace=<@U123>')).toMatchObject({ code: 'invalid_argument' });
  });

  it('takes the upgrade time as an ISO 8601 instant with a zone, and nothing else', () => {
    expect(ok('recover upgrade upgraded_at=2026-03-07T11:40:00Z')).toMatchObject({
      upgradedAt: '2026-03-07T11:40:00Z',
    });
    expect(ok('recover upgrade upgraded-at=2026-03-07T13:40:00+02:00')).toMatchObject({
      upgradedAt: '2026-03-07T13:40:00+02:00',
    });
    const e = err('recover upgrade upgraded_at=yesterday');
    expect(e).toMatchObject({ code: 'invalid_argument', command: 'recover' });
    expect(e.message).toContain('is not a time: give an ISO 8601 time with a zone');
    expect(err('recover upgrade upgraded_at=2026-03-07T11:40:00')).toMatchObject({ code: 'invalid_argument' });
  });
});

describe('unknown words', () => {
  it('suggests the closest command', () => {
    const e = err('recovr restart');
    expect(e).toMatchObject({ code: 'unknown_command', suggestion: 'recover' });
    expect(e.message).toContain('did you mean `recover`?');
    expect(err('stauts')).toMatchObject({ suggestion: 'status' });
    expect(err('abrot run-abcdefgh x')).toMatchObject({ suggestion: 'abort' });
    expect(err('hlep')).toMatchObject({ suggestion: 'help' });
  });

  it('points a bare scenario at recover', () => {
    expect(err('restart')).toMatchObject({ code: 'unknown_command', suggestion: 'recover restart' });
    expect(err('pg')).toMatchObject({ suggestion: 'recover postgres' });
  });

  it('refuses text far longer than any valid command without looking further', () => {
    expect(err(`abort run-abcdef12 ${'x'.repeat(2000)}`)).toMatchObject({ code: 'too_long' });
  });

  it('offers the command list when nothing is close', () => {
    const e = err('deploy');
    expect(e.suggestion).toBeUndefined();
    expect(e.message).toContain('`/dg help`');
  });
});

describe('status, summary, history, diagnose, help', () => {
  it('parses optional run ids and normalises their case', () => {
    expect(ok('status')).toEqual({ kind: 'status' });
    expect(ok('status RUN-ABCDEF12')).toEqual({ kind: 'status', runId: 'run-abcdef12' });
    expect(ok('summary run-0123456789abcdef')).toEqual({ kind: 'summary', runId: 'run-0123456789abcdef' });
    expect(err('status 42')).toMatchObject({ code: 'invalid_argument', command: 'status' });
    expect(err('status run-short')).toMatchObject({ code: 'invalid_argument' });
    expect(err('summary run-abcdef12 extra')).toMatchObject({ code: 'unexpected_argument' });
  });

  it('parses history counts from 1 to 50', () => {
    expect(ok('history')).toEqual({ kind: 'history' });
    expect(ok('history 1')).toEqual({ kind: 'history', limit: 1 });
    expect(ok('history 50')).toEqual({ kind: 'history', limit: 50 });
    for (const bad of ['0', '51', '-1', '2.5', 'ten', '1e1']) {
      expect(err(`history ${bad}`)).toMatchObject({ code: 'invalid_argument', command: 'history' });
    }
  });

  it('takes no arguments for diagnose', () => {
    expect(ok('diagnose')).toEqual({ kind: 'diagnose' });
    expect(err('diagnose now')).toMatchObject({ code: 'unexpected_argument' });
  });

  it('treats empty text as help and suggests help topics', () => {
    expect(ok('')).toEqual({ kind: 'help' });
    expect(ok('   ')).toEqual({ kind: 'help' });
    expect(ok('help ABORT')).toEqual({ kind: 'help', topic: 'abort' });
    expect(err('help abrt')).toMatchObject({ code: 'unknown_help_topic', suggestion: 'abort' });
  });
});

describe('abort', () => {
  it('keeps the reason exactly as typed, inner spacing and lines included', () => {
    expect(ok('abort run-abcdef12   wrong   tenant,\nsee ticket  ')).toEqual({
      kind: 'abort',
      runId: 'run-abcdef12',
      reason: 'wrong   tenant,\nsee ticket',
    });
  });

  it('requires a run id and a reason', () => {
    expect(err('abort')).toMatchObject({ code: 'missing_argument', command: 'abort' });
    expect(err('abort run-abcdef12')).toMatchObject({ code: 'missing_argument' });
    expect(err('abort restart because')).toMatchObject({ code: 'invalid_argument' });
  });

  it('limits the reason to 500 characters, counting emoji as one', () => {
    expect(ok(`abort run-abcdef12 ${'🔥'.repeat(MAX_REASON_LENGTH)}`)).toMatchObject({ kind: 'abort' });
    const e = err(`abort run-abcdef12 ${'x'.repeat(MAX_REASON_LENGTH + 1)}`);
    expect(e).toMatchObject({ code: 'invalid_argument' });
    expect(e.message).toContain('501');
  });

  it('rejects control characters in the reason', () => {
    expect(err('abort run-abcdef12 bad\u0007bell')).toMatchObject({ code: 'invalid_argument' });
    expect(err('abort run-abcdef12 flip\u202Eme')).toMatchObject({ code: 'invalid_argument' });
  });
});

describe('edit distance', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('restrat', 'restart')).toBe(1);
    expect(editDistance('recovr', 'recover')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('only suggests plausible typos', () => {
    expect(closestWord('recovr', ['recover', 'status'])).toBe('recover');
    expect(closestWord('zzzzzz', ['recover', 'status'])).toBeUndefined();
    expect(closestWord('x'.repeat(1000), ['recover'])).toBeUndefined();
  });
});

// ---- properties ------------------------------------------------------------------------------------------------

const externalId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,200}$/);
const runId = fc.stringMatching(/^run-[a-z0-9-]{8,32}$/);
const reason = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom('<!channel>', '<@U123>', '<https://x|y>', '&amp;', ' ', '\n'),
      fc.string({ unit: 'binary', maxLength: 1 }),
    ),
    minLength: 1,
    maxLength: 80,
  })
  // The outside-text rule gives what the grammar accepts.
  .map((s) => safeText(s).trim())
  .filter((s) => s.length > 0 && [...s].length <= MAX_REASON_LENGTH);
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const command: fc.Arbitrary<DgCommand> = fc.oneof(
  fc
    .record({
      kind: fc.constant('recover' as const),
      scenario: fc.constantFrom(...SCENARIOS),
      traceId: opt(externalId),
      tenantId: opt(externalId),
    })
    .map(withoutUndefined),
  fc.record({ kind: fc.constantFrom('status' as const, 'summary' as const), runId: opt(runId) }).map(withoutUndefined),
  fc.record({ kind: fc.constant('abort' as const), runId, reason }),
  fc
    .record({ kind: fc.constant('history' as const), limit: opt(fc.integer({ min: 1, max: 50 })) })
    .map(withoutUndefined),
  fc.constant({ kind: 'diagnose' as const }),
  fc
    .record({
      kind: fc.constant('help' as const),
      topic: opt(fc.constantFrom('recover', 'status', 'abort', 'summary', 'history', 'diagnose', 'help' as const)),
    })
    .map(withoutUndefined),
);

const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U123ABC>',
  '<#C123|general>',
  '<https://evil.test|docs>',
];
const words = fc.constantFrom(
  'recover',
  'restart',
  'pg',
  'abort',
  'status',
  'help',
  'history',
  'run-abcdef12',
  'trace=abc',
  'tenant=t1',
  'upgraded_at=2026-03-07T11:40:00Z',
  '3',
  ...INJECTIONS,
  ...INJECTIONS.map((i) => `trace=${i}`),
);
const commandLike = fc
  .array(fc.oneof(words, fc.string({ unit: 'binary', maxLength: 12 })), { maxLength: 8 })
  .map((ws) => ws.join(' '));

describe('properties', () => {
  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), commandLike), (text) => {
        const result = parseCommand(text);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every rendered command back to itself', () => {
    fc.assert(
      fc.property(command, (cmd) => {
        expect(DgCommandSchema.safeParse(cmd).success).toBe(true);
        const result = parseCommand(renderCommand(cmd));
        expect(result).toEqual({ ok: true, command: cmd });
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects mention and link syntax, or keeps it verbatim in a reason, never anywhere else', () => {
    fc.assert(
      fc.property(commandLike, (text) => {
        const result = parseCommand(text);
        if (!result.ok) {
          // Error messages echo input words escaped, so they are safe to post as mrkdwn.
          expect(result.error.message).not.toMatch(/[<>]/);
          return;
        }
        const { reason: kept, ...rest } = result.command as DgCommand & { reason?: string };
        expect(JSON.stringify(rest)).not.toMatch(/[<>!@|&]/);
        if (kept !== undefined) expect(text).toContain(kept);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an injected mention in a reason exactly as typed', () => {
    fc.assert(
      fc.property(runId, fc.constantFrom(...INJECTIONS), reason, (run, injection, tail) => {
        const text = `abort ${run} ${injection} ${tail}`;
        expect(parseCommand(text)).toEqual({
          ok: true,
          command: { kind: 'abort', runId: run, reason: `${injection} ${tail}` },
        });
      }),
    );
  });
});
