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
  | { readonly kind: 'help'; readonly topic?: CommandName };

export type CommandName = CliCommand['kind'];

export const COMMAND_NAMES: readonly CommandName[] = [
  'recover',
  'resume',
  'status',
  'history',
  'summary',
  'diagnose',
  'abort',
  'help',
];

export type ParseResult =
  | { readonly ok: true; readonly command: CliCommand; readonly colour: 'auto' | 'never' }
  | { readonly ok: false; readonly message: string; readonly topic?: CommandName };

/** History lengths people may ask for. */
export const MAX_HISTORY = 100;
export const DEFAULT_HISTORY = 10;

const MAX_TEXT = 200;

interface OptionSpec {
  /** Takes a value (`--trace ID` or `--trace=ID`); otherwise a flag. */
  readonly value: boolean;
  readonly key: string;
}

const RECOVER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  trace: { value: true, key: 'traceId' },
  tenant: { value: true, key: 'tenantId' },
  workflow: { value: true, key: 'workflowId' },
  release: { value: true, key: 'release' },
  'upgraded-at': { value: true, key: 'upgradedAt' },
  auto: { value: false, key: 'auto' },
  as: { value: true, key: 'as' },
  approver: { value: true, key: 'approver' },
  'summary-dir': { value: true, key: 'summaryDir' },
};

/** Resuming follows a run as it was started: only who answers and where the summary goes are chosen anew. */
const RESUME_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  auto: RECOVER_OPTIONS.auto as OptionSpec,
  as: RECOVER_OPTIONS.as as OptionSpec,
  approver: RECOVER_OPTIONS.approver as OptionSpec,
  'summary-dir': RECOVER_OPTIONS['summary-dir'] as OptionSpec,
};

const OPTIONS: Readonly<Record<CommandName, Readonly<Record<string, OptionSpec>>>> = {
  recover: RECOVER_OPTIONS,
  resume: RESUME_OPTIONS,
  status: {},
  history: {},
  summary: { 'summary-dir': { value: true, key: 'summaryDir' } },
  diagnose: {
    tenant: { value: true, key: 'tenantId' },
    'current-release': { value: true, key: 'currentRelease' },
  },
  abort: { as: { value: true, key: 'as' } },
  help: {},
};

/** Options every command takes. */
const GLOBAL_FLAGS = ['help', 'no-color'];

interface Split {
  readonly positionals: string[];
  readonly values: Record<string, string | true>;
  readonly help: boolean;
  readonly noColour: boolean;
}

type SplitResult = { ok: true; split: Split } | { ok: false; message: string };

function splitArgs(command: CommandName, args: readonly string[]): SplitResult {
  const specs = OPTIONS[command];
  const positionals: string[] = [];
  const values: Record<string, string | true> = {};
  let help = false;
  let noColour = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        return { ok: false, message: `unknown option ${arg.slice(0, 40)}` };
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (name === 'help') {
      help = true;
      continue;
    }
    if (name === 'no-color' || name === 'no-colour') {
      noColour = true;
      continue;
    }
    const spec = specs[name];
    if (spec === undefined) {
      const known = [...Object.keys(specs), ...GLOBAL_FLAGS];
      const near = closestWord(name, known);
      const hint = near ? `; did you mean --${near}?` : '';
      return { ok: false, message: `${command} does not take --${name.slice(0, 40)}${hint}` };
    }
    if (!spec.value) {
      if (eq !== -1) return { ok: false, message: `--${name} takes no value` };
      values[spec.key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      value = args[i + 1];
      if (value?.startsWith('--')) value = undefined;
      else i++;
    }
    if (value === undefined || value.trim() === '') return { ok: false, message: `--${name} needs a value` };
    if (value.length > MAX_TEXT || !isSafeText(value, 'one')) {
      return { ok: false, message: `--${name} must be at most ${MAX_TEXT} printable characters` };
    }
    if (values[spec.key] !== undefined) return { ok: false, message: `--${name} given twice` };
    values[spec.key] = value.trim();
  }
  return { ok: true, split: { positionals, values, help, noColour } };
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

function runIdProblem(runId: string | undefined, command: CommandName): string | undefined {
  if (runId === undefined) return `${command} needs a run id (see \`dg-recovery status\` or \`history\`)`;
  if (!isValidRunId(runId)) return `"${runId.slice(0, 40)}" is not a run id (letters, digits, - and _)`;
  return undefined;
}

function tooMany(command: CommandName, extra: readonly string[]): string {
  return `${command}: unexpected argument "${(extra[0] ?? '').slice(0, 40)}"`;
}

/** The one run id a command takes, or what is wrong with the words given. */
function soleRunId(command: CommandName, positionals: readonly string[]): { runId: string } | { problem: string } {
  const [runId, ...extra] = positionals;
  if (extra.length > 0) return { problem: tooMany(command, extra) };
  const problem = runIdProblem(runId, command);
  return problem !== undefined || runId === undefined ? { problem: problem ?? '' } : { runId };
}

/**
 * Parses the words after `dg-recovery`. Pure: checks the grammar, the run ids and the scenario name (with the
 * closest one suggested), nothing that needs a connection.
 */
export function parseCliArgs(argv: readonly string[]): ParseResult {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    return { ok: true, command: { kind: 'help' }, colour: 'auto' };
  }
  const name = first.toLowerCase();
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) {
    const near = closestWord(name, COMMAND_NAMES);
    const hint = near ? `; did you mean "${near}"?` : '.';
    return {
      ok: false,
      message: `unknown command "${first.slice(0, 40)}"${hint} Commands: ${COMMAND_NAMES.join(', ')}`,
    };
  }
  const command = name as CommandName;
  const parsed = splitArgs(command, rest);
  if (!parsed.ok) return { ok: false, message: parsed.message, topic: command };
  const { positionals, values, help, noColour } = parsed.split;
  const colour = noColour ? 'never' : 'auto';
  const ok = (c: CliCommand): ParseResult => ({ ok: true, command: c, colour });
  const fail = (message: string): ParseResult => ({ ok: false, message, topic: command });
  if (help) return ok({ kind: 'help', topic: command === 'help' ? undefined : command });
  const str = (key: string): string | undefined => {
    const v = values[key];
    return typeof v === 'string' ? v : undefined;
  };

  switch (command) {
    case 'help': {
      const [topic, ...extra] = positionals;
      if (extra.length > 0) return fail(tooMany(command, extra));
      if (topic === undefined) return ok({ kind: 'help' });
      if (!(COMMAND_NAMES as readonly string[]).includes(topic)) {
        const near = closestWord(topic, COMMAND_NAMES);
        return fail(`no help for "${topic.slice(0, 40)}"${near ? `; did you mean "${near}"?` : ''}`);
      }
      return ok({ kind: 'help', topic: topic as CommandName });
    }
    case 'recover': {
      const [typed, ...extra] = positionals;
      if (typed === undefined)
        return fail('recover needs a scenario: restart, postgres, projections, event-log or upgrade');
      if (extra.length > 0) return fail(tooMany(command, extra));
      const scenario = findScenario(typed);
      if (scenario === undefined) return fail(unknownScenarioMessage(typed));
      const as = str('as');
      const approver = str('approver');
      if (as !== undefined && approver !== undefined && as === approver) {
        return fail('--approver must be a different person from the one who starts the run (two-person rule)');
      }
      const upgradedAt = str('upgradedAt');
      if (upgradedAt !== undefined && !isInstant(upgradedAt)) return fail(`--upgraded-at needs ${INSTANT_HINT}`);
      const optional = (key: string, field: string) => {
        const v = str(key);
        return v === undefined ? {} : { [field]: v };
      };
      return ok({
        kind: 'recover',
        scenario: scenario.name,
        auto: values.auto === true,
        ...optional('traceId', 'traceId'),
        ...optional('tenantId', 'tenantId'),
        ...optional('workflowId', 'workflowId'),
        ...optional('release', 'release'),
        ...optional('upgradedAt', 'upgradedAt'),
        ...optional('as', 'as'),
        ...optional('approver', 'approver'),
        ...optional('summaryDir', 'summaryDir'),
      });
    }
    case 'resume': {
      const sole = soleRunId(command, positionals);
      if ('problem' in sole) return fail(sole.problem);
      const { runId } = sole;
      const as = str('as');
      const approver = str('approver');
      const dir = str('summaryDir');
      return ok({
        kind: 'resume',
        runId,
        auto: values.auto === true,
        ...(as !== undefined ? { as } : {}),
        ...(approver !== undefined ? { approver } : {}),
        ...(dir !== undefined ? { summaryDir: dir } : {}),
      });
    }
    case 'status': {
      const [runId, ...extra] = positionals;
      if (extra.length > 0) return fail(tooMany(command, extra));
      if (runId === undefined) return ok({ kind: 'status' });
      const problem = runIdProblem(runId, command);
      return problem ? fail(problem) : ok({ kind: 'status', runId });
    }
    case 'history': {
      const [n, ...extra] = positionals;
      if (extra.length > 0) return fail(tooMany(command, extra));
      if (n === undefined) return ok({ kind: 'history', limit: DEFAULT_HISTORY });
      if (!/^\d{1,4}$/.test(n) || Number(n) < 1 || Number(n) > MAX_HISTORY) {
        return fail(`history takes a number of runs from 1 to ${MAX_HISTORY}, not "${n.slice(0, 20)}"`);
      }
      return ok({ kind: 'history', limit: Number(n) });
    }
    case 'summary': {
      const sole = soleRunId(command, positionals);
      if ('problem' in sole) return fail(sole.problem);
      const { runId } = sole;
      const dir = str('summaryDir');
      return ok({ kind: 'summary', runId, ...(dir !== undefined ? { summaryDir: dir } : {}) });
    }
    case 'diagnose': {
      if (positionals.length > 0) return fail(tooMany(command, positionals));
      const tenantId = str('tenantId');
      const currentRelease = str('currentRelease');
      return ok({
        kind: 'diagnose',
        ...(tenantId !== undefined ? { tenantId } : {}),
        ...(currentRelease !== undefined ? { currentRelease } : {}),
      });
    }
    case 'abort': {
      const [runId, ...words] = positionals;
      const problem = runIdProblem(runId, command);
      if (problem || runId === undefined) return fail(problem ?? '');
      const reason = words.join(' ').trim();
      if (reason === '') return fail('abort needs a reason: dg-recovery abort <run> <reason>');
      if (reason.length > 500 || !isSafeText(reason, 'one')) {
        return fail('the reason must be at most 500 printable characters');
      }
      const as = str('as');
      return ok({ kind: 'abort', runId, reason, ...(as !== undefined ? { as } : {}) });
    }
  }
}
