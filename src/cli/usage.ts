import type { CommandName } from './args.js';

const SYNOPSIS: Readonly<Record<CommandName, string>> = {
  recover:
    'dg-recovery recover <scenario> [--trace ID] [--tenant ID] [--workflow ID] [--release REL] [--auto]\n' +
    '                    [--upgraded-at TIME] [--as NAME] [--approver NAME] [--summary-dir DIR]',
  resume: 'dg-recovery resume <run> [--auto] [--as NAME] [--approver NAME] [--summary-dir DIR]',
  status: 'dg-recovery status [run]',
  history: 'dg-recovery history [n]',
  summary: 'dg-recovery summary <run> [--summary-dir DIR]',
  diagnose: 'dg-recovery diagnose [--tenant ID] [--current-release REL]',
  abort: 'dg-recovery abort <run> <reason> [--as NAME]',
  version: 'dg-recovery --version',
  help: 'dg-recovery help [command]',
};

const DETAILS: Readonly<Record<CommandName, string>> = {
  recover: `Runs a recovery scenario from this terminal, step by step, with the evidence of every step as it arrives.
Decisions and approvals are asked at the prompt; the run is recorded like one started from Slack.

Scenarios: restart (node restart or host reboot), postgres (Postgres unavailable), projections (stale or
corrupt projections), event-log (suspected event-log damage), upgrade (failed upgrade).

  --trace ID       a trace known to exist, read back to prove recovery (default: DG_KNOWN_TRACE_ID)
  --tenant ID      the tenant to recover (default: DG_TENANT_ID)
  --workflow ID    a workflow known to exist (default: DG_KNOWN_WORKFLOW_ID)
  --release REL    the release or git SHA to roll back to (default: the recovery config's previous_known_good)
  --upgraded-at T  upgrade: when the failed release was installed (ISO 8601, e.g. 2026-03-07T11:40:00Z); with
                   no backup labelled pre-upgrade, only one taken before it is recommended
  --auto           take the recommended option at each decision; never approves: approvals of destructive
                   steps are asked at the prompt, or, without a terminal on stdin, the run is left waiting
                   for a person's approval (exit status 1). A decision with no recommended option (such as
                   whether an action the bot was running when it stopped had finished) aborts the run
  --as NAME        who starts the run (default: your operating-system user)
  --approver NAME  who approves destructive steps, chooses to run one again (an interrupted one, or Retry
                   after it failed) and confirms a skip of a safety check; must differ from the starter (asked
                   when needed)
  --summary-dir D  where dg-recovery-<run>.md and .json are written (default: the current dir)

Refuses to start (exit status 1) when the role in DG_DATABASE_URL can write to DecisionGraph's tables, or while
another run holds the slot (resume that one with \`dg-recovery resume <run>\`). While Redis does not answer, the
terminal says so once, waits, and goes on with the run when Redis is back.

Exit status: 0 when the run ends recovered, 1 when it ends recovered with exceptions, failed or aborted, 2 for
bad usage.`,
  resume: `Follows a run that is still active (left with Ctrl-C, or started from Slack or another terminal) from
where it is, running its steps from this terminal and asking its questions here, as recover does, to its end.
\`recover\` refuses to start a run while another one holds its slot; resume that one instead, or abort it.

  --auto           as for recover: take the recommended option at each decision; never approves
  --as NAME        who answers from here (default: your operating-system user)
  --approver NAME  who approves destructive steps, chooses to run one again and confirms a skip of a safety
                   check
  --summary-dir D  where dg-recovery-<run>.md and .json are written (default: the current dir)

Exit status: 0 when the run ends recovered, 1 when it ends recovered with exceptions, failed or aborted or is
not active, 2 for bad usage.`,
  status: `DecisionGraph's health at a glance (the checklist verdict with its failing conditions) and the active runs
with their current step; with a run id, that run's steps so far. Also says where the bot keeps its state.`,
  history: 'The last n runs (default 10, at most 100) with their outcome and duration.',
  summary: "Prints a run's incident summary and writes it to dg-recovery-<run>.md, with the run export in .json.",
  diagnose: `Read-only probes of every symptom the runbook lists (healthz, projection health, SQL reach, integrity
checks, open and orphaned runs, smoke checks), then the scenario that fits, with the rules that matched.
Advice only: a person decides whether to start a recovery.

  --tenant ID              the tenant to probe (default: DG_TENANT_ID)
  --current-release REL    the release the host runs now; with the recovery config's previous_known_good it
                           tells a failed upgrade from other failures (DecisionGraph's API does not report it)`,
  abort: 'Stops a run now; the reason goes into the incident record.',
  version: "Prints dg-recovery's version.",
  help: 'Shows this help, or the details of one command.',
};

/** The whole help, or one command's. */
export function usageText(topic?: CommandName): string {
  if (topic !== undefined) return `usage: ${SYNOPSIS[topic]}\n\n${DETAILS[topic]}`;
  const lines = [
    "dg-recovery: DecisionGraph's disaster-recovery runbook from a terminal",
    '',
    'usage:',
    ...Object.values(SYNOPSIS).map((s) => `  ${s.replaceAll('\n', '\n  ')}`),
    '',
    'Configuration comes from the environment (DG_BASE_URL, DG_API_TOKEN, DG_DATABASE_URL, DG_KNOWN_TRACE_ID,',
    'DATABASE_URL, REDIS_URL, RECOVERY_CONFIG, ...). DG_DATABASE_URL must use a read-only (SELECT-only) role:',
    'recover, status and diagnose refuse one that can write. `dg-recovery help <command>` explains one command.',
  ];
  return lines.join('\n');
}

/** One line pointing at the help, after a usage error. */
export function usageHint(topic?: CommandName): string {
  return topic === undefined || topic === 'help'
    ? 'Run `dg-recovery help` for usage.'
    : `usage: ${SYNOPSIS[topic].split('\n')[0]} (see \`dg-recovery help ${topic}\`)`;
}
