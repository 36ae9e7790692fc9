import { z } from 'zod';
import { closestWord } from '../runbook/did-you-mean.js';
import { INSTANT_HINT, InstantSchema, isSafeText } from '../runbook/index.js';
import { codeSpan, escapeMrkdwn } from '../slack/slack-text.js';

/**
 * The grammar of `/dg ...`. Pure: text in, a typed command or a typed error out; it never throws.
 *
 * The parser works on the text as the user typed it. Slack sends `&`, `<` and `>` as entities, so callers decode
 * them first (`decodeSlackEntities`); free text (an abort reason) is then kept verbatim and escaped only when it is
 * shown. Error messages are mrkdwn that is safe to post as is: every word taken from the input is escaped and shown
 * as code.
 */

export const SCENARIOS = ['restart', 'postgres', 'projections', 'event-log', 'upgrade'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Other words people use for each scenario; matched case-insensitively. */
export const SCENARIO_ALIASES: Readonly<Record<string, Scenario>> = Object.freeze({
  'node-restart': 'restart',
  reboot: 'restart',
  app: 'restart',
  pg: 'postgres',
  db: 'postgres',
  database: 'postgres',
  projection: 'projections',
  proj: 'projections',
  stale: 'projections',
  eventlog: 'event-log',
  event_log: 'event-log',
  log: 'event-log',
  rollback: 'upgrade',
  'failed-upgrade': 'upgrade',
});

export const COMMAND_NAMES = ['recover', 'status', 'abort', 'summary', 'history', 'diagnose', 'help'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** Who may run a command: anyone in an allowed channel, or only the configured operators. */
export type CommandAccess = 'anyone' | 'operator';

export interface CommandSpec {
  readonly name: CommandName;
  /** Usage line without the `/dg` prefix, in plain text (angle brackets are placeholders). */
  readonly usage: string;
  readonly access: CommandAccess;
}

export const COMMAND_SPECS: Readonly<Record<CommandName, CommandSpec>> = Object.freeze({
  recover: {
    name: 'recover',
    usage: 'recover <scenario> [trace=<id>] [tenant=<id>] [upgraded_at=<time>]',
    access: 'operator',
  },
  status: { name: 'status', usage: 'status [run]', access: 'anyone' },
  abort: { name: 'abort', usage: 'abort <run> <reason>', access: 'operator' },
  summary: { name: 'summary', usage: 'summary [run]', access: 'anyone' },
  history: { name: 'history', usage: 'history [n]', access: 'anyone' },
  diagnose: { name: 'diagnose', usage: 'diagnose', access: 'anyone' },
  help: { name: 'help', usage: 'help [command]', access: 'anyone' },
});

/** Longest command text considered at all; a valid command is far shorter (ids 200, reason 500). */
export const MAX_COMMAND_TEXT = 2000;
export const MAX_ID_LENGTH = 200;
export const MAX_REASON_LENGTH = 500;
export const MAX_HISTORY = 50;

const ID_PATTERN = /^[A-Za-z0-9._:-]+$/;
const RUN_ID_PATTERN = /^run-[a-z0-9-]{8,32}$/;

const codePoints = (s: string): number => [...s].length;

/** A DecisionGraph trace id or tenant id as the bot accepts it from people. */
export const ExternalIdSchema = z.string().min(1).max(MAX_ID_LENGTH).regex(ID_PATTERN);
/** A run id as the bot issues it. */
export const RunIdSchema = z.string().regex(RUN_ID_PATTERN);
/** A reason typed by a person: trimmed, 1–500 characters (code points), no control characters. */
export const ReasonSchema = z
  .string()
  .refine((s) => s.trim() === s && s.length > 0, 'must not be empty or start or end with spaces')
  .refine((s) => codePoints(s) <= MAX_REASON_LENGTH, `must be at most ${MAX_REASON_LENGTH} characters`)
  .refine((s) => isSafeText(s, 'many'), 'must not contain control characters');
export const HistoryCountSchema = z.int().min(1).max(MAX_HISTORY);
export const ScenarioSchema = z.enum(SCENARIOS);

export const DgCommandSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('recover'),
    scenario: ScenarioSchema,
    traceId: ExternalIdSchema.optional(),
    tenantId: ExternalIdSchema.optional(),
    upgradedAt: InstantSchema.optional(),
  }),
  z.strictObject({ kind: z.literal('status'), runId: RunIdSchema.optional() }),
  z.strictObject({ kind: z.literal('abort'), runId: RunIdSchema, reason: ReasonSchema }),
  z.strictObject({ kind: z.literal('summary'), runId: RunIdSchema.optional() }),
  z.strictObject({ kind: z.literal('history'), limit: HistoryCountSchema.optional() }),
  z.strictObject({ kind: z.literal('diagnose') }),
  z.strictObject({ kind: z.literal('help'), topic: z.enum(COMMAND_NAMES).optional() }),
]);

export type DgCommand = z.infer<typeof DgCommandSchema>;
export type RecoverCommand = Extract<DgCommand, { kind: 'recover' }>;
export type AbortCommand = Extract<DgCommand, { kind: 'abort' }>;

export type CommandErrorCode =
  | 'too_long'
  | 'unknown_command'
  | 'unknown_scenario'
  | 'unknown_option'
  | 'duplicate_option'
  | 'missing_argument'
  | 'invalid_argument'
  | 'unexpected_argument'
  | 'unknown_help_topic';

export interface CommandParseError {
  readonly code: CommandErrorCode;
  /** What went wrong and how to fix it, as mrkdwn that is safe to post (input words are escaped). */
  readonly message: string;
  /** The command whose arguments were wrong, so the caller can show its help. */
  readonly command?: CommandName;
  /** The closest valid word to an unknown one (`recover` for `recovr`). */
  readonly suggestion?: string;
}

export type ParseResult =
  | { readonly ok: true; readonly command: DgCommand }
  | { readonly ok: false; readonly error: CommandParseError };

interface Token {
  readonly text: string;
  readonly start: number;
}

const OPTION_KEYS = { trace: 'traceId', tenant: 'tenantId', upgraded_at: 'upgradedAt' } as const;
type OptionKey = keyof typeof OPTION_KEYS;
const OPTION_ALIASES: Readonly<Record<string, OptionKey>> = {
  trace: 'trace',
  trace_id: 'trace',
  'trace-id': 'trace',
  traceid: 'trace',
  tenant: 'tenant',
  tenant_id: 'tenant',
  'tenant-id': 'tenant',
  tenantid: 'tenant',
  upgraded_at: 'upgraded_at',
  'upgraded-at': 'upgraded_at',
  upgradedat: 'upgraded_at',
};

/** `/dg <usage>` as inline code, escaped for mrkdwn. */
export function usageOf(name: CommandName): string {
  return `\`/dg ${escapeMrkdwn(COMMAND_SPECS[name].usage)}\``;
}

const listOf = (words: readonly string[]): string => words.map((w) => `\`${w}\``).join(', ');

function fail(code: CommandErrorCode, message: string, extra: Omit<CommandParseError, 'code' | 'message'> = {}) {
  return { ok: false, error: { code, message, ...extra } } as const;
}

/** Resolves a scenario name or alias, case-insensitively. */
export function resolveScenario(word: string): Scenario | undefined {
  const w = word.toLowerCase();
  if ((SCENARIOS as readonly string[]).includes(w)) return w as Scenario;
  return Object.hasOwn(SCENARIO_ALIASES, w) ? SCENARIO_ALIASES[w] : undefined;
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], start: m.index }));
}

/** Parses the text after `/dg`. Empty text asks for help. */
export function parseCommand(text: string): ParseResult {
  if (text.length > MAX_COMMAND_TEXT) {
    return fail('too_long', `That command is too long (over ${MAX_COMMAND_TEXT} characters).`);
  }
  const tokens = tokenize(text);
  const first = tokens[0];
  if (first === undefined) return { ok: true, command: { kind: 'help' } };
  const name = first.text.toLowerCase();
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) return unknownCommand(first.text);
  const args = tokens.slice(1);
  switch (name as CommandName) {
    case 'recover':
      return parseRecover(args);
    case 'status':
      return parseOptionalRun('status', args);
    case 'summary':
      return parseOptionalRun('summary', args);
    case 'abort':
      return parseAbort(text, args);
    case 'history':
      return parseHistory(args);
    case 'diagnose':
      return args[0] === undefined ? { ok: true, command: { kind: 'diagnose' } } : unexpected('diagnose', args[0]);
    case 'help':
      return parseHelp(args);
  }
}

function unknownCommand(word: string): ParseResult {
  const scenario = resolveScenario(word);
  if (scenario !== undefined) {
    return fail(
      'unknown_command',
      `${codeSpan(word)} is a scenario, not a command: did you mean \`/dg recover ${scenario}\`?`,
      { suggestion: `recover ${scenario}` },
    );
  }
  const suggestion = closestWord(word, COMMAND_NAMES);
  const hint = suggestion
    ? `did you mean \`${suggestion}\`?`
    : `the commands are ${listOf(COMMAND_NAMES)}; try \`/dg help\`.`;
  return fail('unknown_command', `Unknown command ${codeSpan(word)}: ${hint}`, suggestion ? { suggestion } : {});
}

function unexpected(command: CommandName, token: Token): ParseResult {
  return fail('unexpected_argument', `Unexpected ${codeSpan(token.text)}. Usage: ${usageOf(command)}`, { command });
}

function parseRecover(args: readonly Token[]): ParseResult {
  const positional: Token[] = [];
  const options: { traceId?: string; tenantId?: string; upgradedAt?: string } = {};
  for (const token of args) {
    const eq = token.text.indexOf('=');
    if (eq < 0) {
      positional.push(token);
      continue;
    }
    const rawKey = token.text.slice(0, eq);
    const value = token.text.slice(eq + 1);
    const key = Object.hasOwn(OPTION_ALIASES, rawKey.toLowerCase()) ? OPTION_ALIASES[rawKey.toLowerCase()] : undefined;
    if (key === undefined) {
      const suggestion = closestWord(rawKey, Object.keys(OPTION_KEYS));
      const hint = suggestion
        ? `did you mean \`${suggestion}=\`?`
        : 'the options are `trace=<id>`, `tenant=<id>` and `upgraded_at=<time>`.';
      return fail('unknown_option', `Unknown option ${codeSpan(`${rawKey}=`)}: ${escapeMrkdwn(hint)}`, {
        command: 'recover',
        ...(suggestion ? { suggestion: `${suggestion}=` } : {}),
      });
    }
    const field = OPTION_KEYS[key];
    if (options[field] !== undefined) {
      return fail('duplicate_option', `\`${key}=\` is given twice; give it once.`, { command: 'recover' });
    }
    if (value.length === 0) {
      return fail('missing_argument', `\`${key}=\` needs a value, for example \`${key}=abc-123\`.`, {
        command: 'recover',
      });
    }
    if (field === 'upgradedAt') {
      if (!InstantSchema.safeParse(value).success) {
        return fail('invalid_argument', `${codeSpan(`${key}=${value}`)} is not a time: give ${INSTANT_HINT}.`, {
          command: 'recover',
        });
      }
    } else if (!ExternalIdSchema.safeParse(value).success) {
      return fail(
        'invalid_argument',
        `${codeSpan(`${key}=${value}`)} is not a valid ${key} id: use 1–${MAX_ID_LENGTH} letters, digits, ` +
          '`.`, `_`, `:` or `-`.',
        { command: 'recover' },
      );
    }
    options[field] = value;
  }
  const [scenarioToken, extra] = positional;
  if (scenarioToken === undefined) {
    return fail(
      'missing_argument',
      `Which scenario? \`recover\` needs one of ${listOf(SCENARIOS)}. Usage: ${usageOf('recover')}`,
      { command: 'recover' },
    );
  }
  const scenario = resolveScenario(scenarioToken.text);
  if (scenario === undefined) {
    const suggestion = closestWord(scenarioToken.text, [...SCENARIOS, ...Object.keys(SCENARIO_ALIASES)]);
    const hint = suggestion ? `did you mean \`${suggestion}\`?` : `the scenarios are ${listOf(SCENARIOS)}.`;
    return fail('unknown_scenario', `Unknown scenario ${codeSpan(scenarioToken.text)}: ${hint}`, {
      command: 'recover',
      ...(suggestion ? { suggestion } : {}),
    });
  }
  if (extra !== undefined) return unexpected('recover', extra);
  return validated({ kind: 'recover', scenario, ...options });
}

function runIdError(command: CommandName, token: Token): ParseResult {
  return fail(
    'invalid_argument',
    `${codeSpan(token.text)} is not a run id (run ids look like \`run-1a2b3c4d\`). Usage: ${usageOf(command)}`,
    { command },
  );
}

function parseOptionalRun(command: 'status' | 'summary', args: readonly Token[]): ParseResult {
  const [run, extra] = args;
  if (run === undefined) return { ok: true, command: { kind: command } };
  const runId = run.text.toLowerCase();
  if (!RunIdSchema.safeParse(runId).success) return runIdError(command, run);
  if (extra !== undefined) return unexpected(command, extra);
  return validated({ kind: command, runId });
}

function parseAbort(text: string, args: readonly Token[]): ParseResult {
  const [run, reasonStart] = args;
  if (run === undefined) {
    return fail('missing_argument', `Which run? Usage: ${usageOf('abort')}`, { command: 'abort' });
  }
  const runId = run.text.toLowerCase();
  if (!RunIdSchema.safeParse(runId).success) return runIdError('abort', run);
  if (reasonStart === undefined) {
    return fail('missing_argument', `An abort needs a reason, so the record says why. Usage: ${usageOf('abort')}`, {
      command: 'abort',
    });
  }
  // The reason is everything after the run id, exactly as typed (inner spacing and line breaks included).
  const reason = text.slice(reasonStart.start).trim();
  if (codePoints(reason) > MAX_REASON_LENGTH) {
    return fail(
      'invalid_argument',
      `The reason is ${codePoints(reason)} characters long; keep it to ${MAX_REASON_LENGTH}.`,
      { command: 'abort' },
    );
  }
  // Line breaks are fine in a reason; what the outside-text rule would remove is not.
  if (!isSafeText(reason, 'many')) {
    return fail('invalid_argument', 'The reason contains control characters; type it as plain text.', {
      command: 'abort',
    });
  }
  return validated({ kind: 'abort', runId, reason });
}

function parseHistory(args: readonly Token[]): ParseResult {
  const [n, extra] = args;
  if (n === undefined) return { ok: true, command: { kind: 'history' } };
  const limit = /^\d{1,3}$/.test(n.text) ? Number(n.text) : Number.NaN;
  if (!HistoryCountSchema.safeParse(limit).success) {
    return fail(
      'invalid_argument',
      `${codeSpan(n.text)} is not a number of runs: use a whole number from 1 to ${MAX_HISTORY}.`,
      { command: 'history' },
    );
  }
  if (extra !== undefined) return unexpected('history', extra);
  return validated({ kind: 'history', limit });
}

function parseHelp(args: readonly Token[]): ParseResult {
  const [topic, extra] = args;
  if (topic === undefined) return { ok: true, command: { kind: 'help' } };
  const word = topic.text.toLowerCase();
  if (!(COMMAND_NAMES as readonly string[]).includes(word)) {
    const suggestion = closestWord(topic.text, COMMAND_NAMES);
    const hint = suggestion ? `did you mean \`${suggestion}\`?` : `the commands are ${listOf(COMMAND_NAMES)}.`;
    return fail('unknown_help_topic', `There is no command ${codeSpan(topic.text)}: ${hint}`, {
      command: 'help',
      ...(suggestion ? { suggestion } : {}),
    });
  }
  if (extra !== undefined) return unexpected('help', extra);
  return validated({ kind: 'help', topic: word as CommandName });
}

/** The last gate: whatever the parser built must satisfy the schema, or it is reported rather than returned. */
function validated(candidate: DgCommand): ParseResult {
  const result = DgCommandSchema.safeParse(candidate);
  if (result.success) return { ok: true, command: candidate };
  const name = candidate.kind;
  return fail('invalid_argument', `That \`${name}\` command is not valid. Usage: ${usageOf(name)}`, { command: name });
}

/** The canonical text of a command, which {@link parseCommand} turns back into the same command. */
export function renderCommand(command: DgCommand): string {
  switch (command.kind) {
    case 'recover':
      return [
        'recover',
        command.scenario,
        ...(command.traceId !== undefined ? [`trace=${command.traceId}`] : []),
        ...(command.tenantId !== undefined ? [`tenant=${command.tenantId}`] : []),
        ...(command.upgradedAt !== undefined ? [`upgraded_at=${command.upgradedAt}`] : []),
      ].join(' ');
    case 'status':
    case 'summary':
      return command.runId !== undefined ? `${command.kind} ${command.runId}` : command.kind;
    case 'abort':
      return `abort ${command.runId} ${command.reason}`;
    case 'history':
      return command.limit !== undefined ? `history ${command.limit}` : 'history';
    case 'diagnose':
      return 'diagnose';
    case 'help':
      return command.topic !== undefined ? `help ${command.topic}` : 'help';
  }
}
