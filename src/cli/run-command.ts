import { isDgError } from '../errors.js';
import { checkDatabaseRoleAtStart } from '../executors/registry/index.js';
import type { Style } from '../projections/terminal/style.js';
import type { CliCommand, CommandName } from './args.js';
import { type CliContext, type CliRuntimeOptions, openCliContext } from './cli-context.js';
import {
  type CommandIo,
  type ResponderFactory,
  runAbort,
  runDiagnose,
  runHistory,
  runRecover,
  runResume,
  runStatus,
  runSummary,
} from './commands.js';
import type { ProcessIo } from './entry.js';
import { EXIT_FAILED, EXIT_USAGE } from './exit-codes.js';
import { createReadlinePrompter, type Prompter } from './prompter.js';

/** The streams, environment and Ctrl-C signal the front end runs with. */
export type CliIo = ProcessIo;

export interface CliOptions {
  readonly runtime?: CliRuntimeOptions;
  /**
   * Wraps the `--auto` responder. Internal to the demo, which performs the simulator's manual steps through it and
   * approves as a second operator: on its own simulator nothing real is at stake. `--auto` itself never approves.
   * @defaultValue none
   */
  readonly wrapAuto?: ResponderFactory;
  /** Print a finished run's whole summary (the demo prints only the file's path). @defaultValue true */
  readonly printSummary?: boolean;
}

/** A terminal that leaves stops waiting for its connections and workers to close after this long. */
const CLOSE_DEADLINE_MS = 5000;

/** Commands that reach DecisionGraph (its API or its Postgres); the others read and steer the bot's own state. */
const REACHES_DECISIONGRAPH: ReadonlySet<CommandName> = new Set(['recover', 'resume', 'status', 'diagnose']);

/** Runs a parsed command other than `help`: opens the bot's connections, runs it, closes them. */
export async function runCommand(
  command: CliCommand,
  io: CliIo,
  options: CliOptions,
  out: { print: (line: string) => void; err: (line: string) => void; style: Style },
): Promise<number> {
  const { print, err, style } = out;
  let prompter: Prompter | undefined;
  const cmdIo: CommandIo = {
    print,
    style,
    interactive: io.stdin.isTTY === true,
    prompter: () => {
      prompter ??= createReadlinePrompter(io.stdin, io.stdout);
      return prompter;
    },
    ...(io.signal ? { signal: io.signal } : {}),
    ...(options.printSummary === false ? { printSummary: false } : {}),
  };
  // Leaving (Ctrl-C) must also end a question that is waiting for an answer.
  const closePrompter = () => prompter?.close();
  io.signal?.addEventListener('abort', closePrompter, { once: true });
  let ctx: CliContext | undefined;
  try {
    ctx = await openCliContext(io.env, io.stderr, options.runtime);
    // Safety rule 1 (docs/operations.md): a role that can write to DecisionGraph's tables is refused before
    // anything touches DecisionGraph. Postgres not answering is a warning: the probes check once it answers.
    if (REACHES_DECISIONGRAPH.has(command.kind) && options.runtime?.requireReadOnlyRole !== false) {
      const verdict = await checkDatabaseRoleAtStart(ctx.config.decisionGraph.databaseUrl, {
        stderr: { write: (text: string) => io.stderr.write(`dg-recovery: ${text}`) },
      });
      if (verdict === 'refused') return EXIT_FAILED;
    }
    switch (command.kind) {
      case 'recover':
        return await runRecover(command, ctx, cmdIo, options.wrapAuto);
      case 'resume':
        return await runResume(command, ctx, cmdIo);
      case 'status':
        return await runStatus(command.runId, ctx, cmdIo);
      case 'history':
        return await runHistory(command.limit, ctx, cmdIo);
      case 'summary':
        return await runSummary(command.runId, command.summaryDir, ctx, cmdIo);
      case 'diagnose':
        return await runDiagnose(command, ctx, cmdIo);
      case 'abort':
        return await runAbort(command.runId, command.reason, command.as, ctx, cmdIo);
    }
    return EXIT_USAGE;
  } catch (error) {
    // Configuration problems name the variable or key, never a value; other failures give their message.
    if (isDgError(error)) err(`dg-recovery: ${error.message}`);
    else err(`dg-recovery: ${(error as Error).message ?? String(error)}`);
    return EXIT_FAILED;
  } finally {
    io.signal?.removeEventListener('abort', closePrompter);
    prompter?.close();
    // A step still running is cut off at the deadline; its job is handed to the next worker, which re-probes.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
      timer.unref();
    });
    await Promise.race([ctx?.close().catch(() => undefined), deadline]);
    clearTimeout(timer);
  }
}
