import { escapeMrkdwn } from '../slack/slack-text.js';
import {
  COMMAND_NAMES,
  COMMAND_SPECS,
  type CommandName,
  MAX_HISTORY,
  MAX_REASON_LENGTH,
  SCENARIO_ALIASES,
  SCENARIOS,
  type Scenario,
  usageOf,
} from './command-grammar.js';

/** What the bot knows about the person asking, as far as commands go. */
export interface CommandAccessFlags {
  readonly isOperator: boolean;
  readonly isApprover: boolean;
}

const SUMMARIES: Readonly<Record<CommandName, string>> = {
  recover: 'Start a recovery run for a scenario; the bot opens a thread in this channel and works through the runbook.',
  status:
    "DecisionGraph's health by the recovery checklist (what fails, measured against expected) and the active runs, " +
    "or one run's progress.",
  abort: 'Stop a run; the reason goes into the incident record.',
  summary: "Post a run's incident summary again (the latest run if none is given).",
  history: 'The last runs with their outcome, duration and the gist of their incident summary.',
  diagnose: 'Read-only probes of every symptom the runbook lists, and the scenario that fits them.',
  help: 'This help, or the details of one command.',
};

const SCENARIO_TEXT: Readonly<Record<Scenario, string>> = {
  restart: 'the application node restarted or is unreachable',
  postgres: "DecisionGraph's Postgres is down or was restored",
  projections: 'projections are stale or a projection run failed',
  'event-log': 'the event log is damaged and must be restored from a backup',
  upgrade: 'an upgrade failed and the previous release must come back',
};

function aliasesOf(scenario: Scenario): string[] {
  return Object.entries(SCENARIO_ALIASES)
    .filter(([, target]) => target === scenario)
    .map(([alias]) => alias);
}

function details(name: CommandName): string[] {
  switch (name) {
    case 'recover':
      return [
        'Scenarios:',
        ...SCENARIOS.map((s) => {
          const aliases = aliasesOf(s);
          const also = aliases.length > 0 ? ` (also ${aliases.map((a) => `\`${a}\``).join(', ')})` : '';
          return `• \`${s}\`${also}: ${SCENARIO_TEXT[s]}`;
        }),
        '`trace=<id>`: a trace known to exist, read back to prove recovery. `tenant=<id>`: the tenant to check ' +
          '(defaults to the configured one). `upgraded_at=<time>` (`upgrade`): when the failed release was ' +
          'installed; without a `pre-upgrade` backup only one taken before it is recommended.',
      ];
    case 'status':
    case 'summary':
      return ['`run` is a run id such as `run-1a2b3c4d`, shown in the run’s thread.'];
    case 'abort':
      return [`The reason is free text, up to ${MAX_REASON_LENGTH} characters.`];
    case 'history':
      return [`\`n\` is how many runs to list, 1 to ${MAX_HISTORY}.`];
    case 'diagnose':
      return ['Advisory only: it never changes anything, and a person chooses whether to start a recovery.'];
    case 'help':
      return [`Commands: ${COMMAND_NAMES.map((c) => `\`${c}\``).join(', ')}.`];
  }
}

/** May a person with these flags run this command? */
export function mayRun(name: CommandName, flags: CommandAccessFlags): boolean {
  return COMMAND_SPECS[name].access === 'anyone' || flags.isOperator;
}

/** The commands a person with these flags may run, in the order help lists them. */
export function commandsFor(flags: CommandAccessFlags): CommandName[] {
  return COMMAND_NAMES.filter((name) => mayRun(name, flags));
}

/** The help of one command, as mrkdwn (placeholders escaped); operator-only commands say so. */
export function commandHelp(name: CommandName): string {
  const restricted = COMMAND_SPECS[name].access === 'operator' ? ' _(operators only)_' : '';
  // The texts above use `<id>`-style placeholders, which mrkdwn would read as links unless escaped.
  return [`${usageOf(name)}${restricted}`, SUMMARIES[name], ...details(name).map(escapeMrkdwn)].join('\n');
}

/**
 * `/dg help` for this person: only the commands they may run, one line each, or one command in detail (with a note
 * when they may not run it).
 */
export function helpText(flags: CommandAccessFlags, topic?: CommandName): string {
  if (topic !== undefined) {
    const note = mayRun(topic, flags) ? '' : '\n_You are not an operator, so you cannot run this command._';
    return commandHelp(topic) + note;
  }
  const lines = commandsFor(flags).map((name) => `${usageOf(name)}: ${SUMMARIES[name]}`);
  if (flags.isApprover) {
    lines.push('You can approve destructive steps with the buttons in a run’s thread.');
  }
  lines.push(escapeMrkdwn('`/dg help <command>` shows the details of one command.'));
  return lines.join('\n');
}
