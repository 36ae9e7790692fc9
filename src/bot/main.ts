import { loadStartupConfig } from '../config/startup-config.js';
import { isDgError } from '../errors.js';
import { checkDatabaseRoleAtStart } from '../executors/registry/index.js';
import { createLogger, scrubSecrets } from '../logger.js';
import { type BotRole, type RunningBot, startBot } from './bot.js';

// `npm start`: the Slack front end and the step workers in one process. `--workers-only` runs the workers alone
// (no Slack values needed), `--no-workers` the front end alone; any number of each may share one Redis.

const USAGE = 'usage: npm start [-- --workers-only | --no-workers]';

/** A service manager kills what is still running some seconds after SIGTERM; the bot is gone well before. */
const SHUTDOWN_DEADLINE_MS = 9_000;
/** Steps still running at a shutdown get this long to finish; then they are cut off and handed to another worker. */
const STEP_GRACE_MS = 5_000;

function roleFrom(argv: readonly string[]): BotRole {
  const flags = new Set(argv);
  for (const flag of flags) {
    if (flag !== '--workers-only' && flag !== '--no-workers') throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  if (flags.has('--workers-only') && flags.has('--no-workers')) {
    throw new Error(`--workers-only and --no-workers exclude each other\n${USAGE}`);
  }
  if (flags.has('--workers-only')) return 'workers';
  if (flags.has('--no-workers')) return 'front-end';
  return 'all';
}

async function main(): Promise<void> {
  const role = roleFrom(process.argv.slice(2));
  // Every configuration problem at once, the Slack values included when the front end runs.
  const { config, recovery } = await loadStartupConfig(process.env, { requireSlack: role !== 'workers' });
  const logger = createLogger({ level: config.logLevel });
  // The handlers go in before anything starts: `startBot` reports itself started (workers, Slack) before it
  // returns, and a signal in that window would otherwise kill the process without closing what already runs.
  // A signal during start-up lets the start finish, then stops what it started.
  let stopping = false;
  let startup: Promise<RunningBot | undefined> = Promise.resolve(undefined);
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Whatever hangs (a connection that never answers its quit), the process ends before the manager kills it.
    setTimeout(() => {
      logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting');
      logger.flush();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    startup
      .then((bot) => bot?.stop())
      .then(() => logger.flush())
      .then(() => process.exit(process.exitCode ?? 0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  startup = (async () => {
    // Safety rule 1 (docs/operations.md): a DecisionGraph database role that can write is refused before anything
    // touches DecisionGraph; a database that does not answer yet is checked at the first probe that reaches it.
    const dbRole = await checkDatabaseRoleAtStart(config.decisionGraph.databaseUrl, {
      logger,
      stderr: process.stderr,
    });
    if (dbRole === 'refused') {
      process.exitCode = 1;
      return undefined;
    }
    return startBot(config, recovery, { logger, role, runtime: { worker: { closeTimeoutMs: STEP_GRACE_MS } } });
  })();
  await startup;
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  // Configuration problems name the variable and never its value; anything else is shown by its code or name.
  const message = isDgError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`dg-recovery could not start: ${scrubSecrets(message)}\n`);
  process.exit(1);
});
