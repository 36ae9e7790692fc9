import { closestWord } from '../runbook/did-you-mean.js';
import {
  findScenario,
  INSTANT_HINT,
  isInstant,
  isSafeText,
  isValidRunId,
  loadScenarios,
  type ScenarioName,
} from '../runbook/index.js';
import { type OptionToken, parseStrict, refusalMessage } from './strict-args.js';

/** What the person asked the terminal front end to do, parsed and checked, before anything connects. */
export type CliCommand =
  | {
      readonly kind: 'recover';
      /** The scenario's canonical name (an alias typed is resolved). */
      readonly scenario: ScenarioName;
      readonly traceId?: string;
      readonly tenantId?: string;
      readonly workflowId?: string;
      /** The release or git SHA offered first when rolling back an upgrade. */
      readonly release?: string;
      /** When the failed upgrade was installed (ISO 8601 with a zone). */
      readonly upgradedAt?: string;
      /** Take the recommended option at every decision; approvals still need a person. */
      readonly auto: boolean;
      /** Who starts the run. @defaultValue the operating-system user */
      readonly as?: string;
      /** Who approves destructive steps; asked at the first approval when not given. */
      readonly approver?: string;
      /** Where the summary file goes. @defaultValue the current directory */
      readonly summaryDir?: string;
    }
  | {
      readonly kind: 'resume';
      readonly runId: string;
      readonly auto: boolean;
      /** Who answers the run's questions from here. @defaultValue the operating-system user */
      readonly as?: string;
      readonly approver?: string;
      readonly summaryDir?: string;
    }
  | { readonly kind: 'status'; readonly runId?: string }
  | { readonly kind: 'history'; readonly limit: number }
  | { readonly kind: 'summary'; readonly runId: string; readonly summaryDir?: string }
  | {
      readonly kind: 'diagnose';
      readonly tenantId?: string;
      /** The release the host runs now, compared with the configured known-good one. */
      readonly currentRelease?: string;
    }
  | { readonly kind: 'abort'; readonly runId: string; readonly reason: string; readonly as?: string }
  | {
      readonly kind: 'help';
      readonly topic?: CommandName;
      /** No command was given at all: the help goes to stderr and the exit status says it was not a command. */
      readonly bare?: true;
    }
  | { readonly kind: 'version' };

export type CommandName = CliCommand['kind'];

export type ParseResult =
  | { readonly ok: true; readonly command: CliCommand; readonly colour: 'auto' | 'never' }
  | { readonly ok: false; readonly message: string; readonly topic?: CommandName };

/** History lengths people may ask for. */
export const MAX_HISTORY = 100;
export const DEFAULT_HISTORY = 10;

const MAX_TEXT = 200;

/** Every option a command may take, with the field of `CliCommand` it fills. */
const OPTIONS = {
  trace: { type: 'string', field: 'traceId' },
  tenant: { type: 'string', field: 'tenantId' },
  workflow: { type: 'string', field: 'workflowId' },
  release: { type: 'string', field: 'release' },
  'upgraded-at': { type: 'string', field: 'upgradedAt' },
  auto: { type: 'boolean', field: 'auto' },
  as: { type: 'string', field: 'as' },
  approver: { type: 'string', field: 'approver' },
  'summary-dir': { type: 'string', field: 'summaryDir' },
  'current-release': { type: 'string', field: 'currentRelease' },
} as const;
type OptionName = keyof typeof OPTIONS;
type TextField = Exclude<(typeof OPTIONS)[OptionName]['field'], 'auto'>;
/** The options given: text trimmed and checked; `auto` only when given. */
type Given = { readonly auto?: true } & { readonly [F in TextField]?: string };

const FLAG = { type: 'boolean' } as const;
/** Options every command takes. */
const GLOBAL_OPTIONS = { help: { ...FLAG, short: 'h' }, 'no-color': FLAG, 'no-colour': FLAG } as const;

interface CommandSpec {
  /** Its options, in the order "did you mean" prefers them. @defaultValue none */
  readonly options?: readonly OptionName[];
  /** How many words it takes after its name. */
  readonly words: number;
  /** The command from its words and options, or what is wrong with them. */
  readonly build: (words: readonly string[], given: Given) => CliCommand | string;
}
type Builds<K extends CommandName> = (
  words: readonly string[],
  given: Given,
) => Extract<CliCommand, { kind: K }> | string;

const COMMANDS: { readonly [K in CommandName]: CommandSpec & { readonly build: Builds<K> } } = {
  recover: {
    options: ['trace', 'tenant', 'workflow', 'release', 'upgraded-at', 'auto', 'as', 'approver', 'summary-dir'],
    words: 1,
    build: ([typed], { auto, ...text }) => {
      if (typed === undefined) return 'recover needs a scenario: restart, postgres, projections, event-log or upgrade';
      const scenario = findScenario(typed);
      if (scenario === undefined) return unknownScenarioMessage(typed);
      if (text.as !== undefined && text.as === text.approver) {
        return '--approver must be a different person from the one who starts the run (two-person rule)';
      }
      if (text.upgradedAt !== undefined && !isInstant(text.upgradedAt)) return `--upgraded-at needs ${INSTANT_HINT}`;
      return { kind: 'recover', scenario: scenario.name, auto: auto === true, ...text };
    },
  },
  // Resuming follows a run as it was started: only who answers and where the summary goes are chosen anew.
  resume: {
    options: ['auto', 'as', 'approver', 'summary-dir'],
    words: 1,
    build: ([runId], { auto, ...text }) =>
      withRunId('resume', runId, (id) => ({ kind: 'resume', runId: id, auto: auto === true, ...text })),
  },
  status: {
    words: 1,
    build: ([runId]) =>
      runId === undefined ? { kind: 'status' } : withRunId('status', runId, (id) => ({ kind: 'status', runId: id })),
  },
  history: {
    words: 1,
    build: ([n = String(DEFAULT_HISTORY)]) =>
      /^\d{1,4}$/.test(n) && Number(n) >= 1 && Number(n) <= MAX_HISTORY
        ? { kind: 'history', limit: Number(n) }
        : `history takes a number of runs from 1 to ${MAX_HISTORY}, not "${n.slice(0, 20)}"`,
  },
  summary: {
    options: ['summary-dir'],
    words: 1,
    build: ([runId], text) => withRunId('summary', runId, (id) => ({ kind: 'summary', runId: id, ...text })),
  },
  diagnose: { options: ['tenant', 'current-release'], words: 0, build: (_, text) => ({ kind: 'diagnose', ...text }) },
  abort: {
    options: ['as'],
    words: Number.POSITIVE_INFINITY,
    build: ([runId, ...words], text) =>
      withRunId('abort', runId, (id) => {
        const reason = words.join(' ').trim();
        if (reason === '') return 'abort needs a reason: dg-recovery abort <run> <reason>';
        if (reason.length > 500 || !isSafeText(reason, 'one'))
          return 'the reason must be at most 500 printable characters';
        return { kind: 'abort', runId: id, reason, ...text };
      }),
  },
  version: { words: 0, build: () => ({ kind: 'version' }) },
  help: {
    words: 1,
    build: ([topic]) => {
      if (topic === undefined || isCommandName(topic)) return { kind: 'help', topic };
      const near = closestWord(topic, COMMAND_NAMES);
      return `no help for "${topic.slice(0, 40)}"${near ? `; did you mean "${near}"?` : ''}`;
    },
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS) as readonly CommandName[];

function isCommandName(word: string): word is CommandName {
  return Object.hasOwn(COMMANDS, word);
}

/** Every scenario name and alias, for suggestions. */
export function scenarioWords(): string[] {
  return [...loadScenarios().values()].flatMap((s) => [s.name, ...s.aliases]);
}

/** `unknown scenario "restrat"; did you mean "restart"? …`, listing the scenarios. */
export function unknownScenarioMessage(typed: string): string {
  const shown = typed.slice(0, 40);
  const near = closestWord(typed.trim().toLowerCase(), scenarioWords());
  const canonical = near === undefined ? undefined : findScenario(near)?.name;
  const hint = canonical ? `; did you mean "${canonical}"?` : '.';
  return `unknown scenario "${shown}"${hint} Scenarios: ${[...loadScenarios().keys()].join(', ')}`;
}

/** The command made with a run id, or why `runId` is not one. */
function withRunId<C>(command: CommandName, runId: string | undefined, make: (id: string) => C | string) {
  if (runId === undefined) return `${command} needs a run id (see \`dg-recovery status\` or \`history\`)`;
  if (!isValidRunId(runId)) return `"${runId.slice(0, 40)}" is not a run id (letters, digits, - and _)`;
  return make(runId);
}

/** The command's options from the tokens, in order, or what is wrong with a value. */
function readGiven(tokens: readonly OptionToken[]): Given | string {
  const given: { auto?: true } & { [F in TextField]?: string } = {};
  for (const { name, value = '' } of tokens) {
    if (!Object.hasOwn(OPTIONS, name)) continue; // a global flag
    const { field } = OPTIONS[name as OptionName];
    if (field === 'auto') {
      given.auto = true;
      continue;
    }
    if (value.trim() === '') return `--${name} needs a value`;
    if (value.length > MAX_TEXT || !isSafeText(value, 'one'))
      return `--${name} must be at most ${MAX_TEXT} printable characters`;
    if (given[field] !== undefined) return `--${name} given twice`;
    given[field] = value.trim();
  }
  return given;
}

/**
 * Parses the words after `dg-recovery`. Pure: checks the grammar, the run ids and the scenario name (with the
 * closest one suggested), nothing that needs a connection.
 */
export function parseCliArgs(argv: readonly string[]): ParseResult {
  const [first, ...rest] = argv;
  if (first === undefined) return { ok: true, command: { kind: 'help', bare: true }, colour: 'auto' };
  if (first === '--help' || first === '-h') return { ok: true, command: { kind: 'help' }, colour: 'auto' };
  if (first === '--version' || first === '-V') return { ok: true, command: { kind: 'version' }, colour: 'auto' };
  const command = first.toLowerCase();
  if (!isCommandName(command)) {
    const near = closestWord(command, COMMAND_NAMES);
    const hint = near ? `; did you mean "${near}"?` : '.';
    return {
      ok: false,
      message: `unknown command "${first.slice(0, 40)}"${hint} Commands: ${COMMAND_NAMES.join(', ')}`,
    };
  }
  const spec: CommandSpec = COMMANDS[command];
  const fail = (message: string): ParseResult => ({ ok: false, message, topic: command });
  const own = Object.fromEntries((spec.options ?? []).map((o) => [o, { type: OPTIONS[o].type }]));
  const read = parseStrict(rest, { ...GLOBAL_OPTIONS, ...own });
  if (!read.ok) {
    const { problem, option, before } = read.refusal;
    const earlier = readGiven(before);
    if (typeof earlier === 'string') return fail(earlier);
    if (problem !== 'unknown' || !option.rawName.startsWith('--')) return fail(refusalMessage(read.refusal));
    const near = closestWord(option.name, [...(spec.options ?? []), 'help', 'no-color']);
    return fail(`${command} does not take --${option.name.slice(0, 40)}${near ? `; did you mean --${near}?` : ''}`);
  }
  const given = readGiven(read.options);
  if (typeof given === 'string') return fail(given);
  const { values, positionals } = read;
  const colour = values['no-color'] || values['no-colour'] ? 'never' : 'auto';
  const ok = (c: CliCommand): ParseResult => ({ ok: true, command: c, colour });
  if (values.help) return ok({ kind: 'help', topic: command === 'help' ? undefined : command });
  const [extra] = positionals.slice(spec.words);
  if (extra !== undefined) return fail(`${command}: unexpected argument "${extra.slice(0, 40)}"`);
  const built = spec.build(positionals, given);
  return typeof built === 'string' ? fail(built) : ok(built);
}
