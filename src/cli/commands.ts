import { userInfo } from 'node:os';
import { redisClientOptions } from '../config/redis-connection.js';
import type { RunActor } from '../jobs/run-service-port.js';
import { renderLog } from '../projections/terminal/render.js';
import type { Style } from '../projections/terminal/style.js';
import { summaryMarkdown, writeSummaryFile } from '../projections/terminal/summary-file.js';
import {
  historyRowOf,
  renderActiveRuns,
  renderDiagnosis,
  renderHealthVerdict,
  renderHistory,
} from '../projections/terminal/views.js';
import { findScenario } from '../runbook/index.js';
import {
  createDiagnoser,
  describeStateLocation,
  readHealth,
  readRedisPersistence,
  redisPersistenceWarning,
  serverOf,
  stateLocation,
} from '../triage/index.js';
import type { CliCommand } from './args.js';
import type { CliContext } from './cli-context.js';
import type { Prompter } from './prompter.js';
import { type FollowOptions, type RecoverResult, recover, resume } from './recover.js';
import { rideOutRedisOutages } from './redis-outage.js';
import { createAutoResponder, createInteractiveResponder, type Responder } from './responder.js';

export interface CommandIo {
  readonly print: (line: string) => void;
  readonly style: Style;
  /** A person is at the terminal (stdin is a TTY): `--auto` asks them for approvals. */
  readonly interactive: boolean;
  /** Opened only by commands that ask questions. */
  readonly prompter: () => Prompter;
  readonly signal?: AbortSignal;
  /** Print a finished run's whole summary; `false` prints only where it was written. @defaultValue true */
  readonly printSummary?: boolean;
}

/** Lets a caller answer what `--auto` cannot (the demo performs the simulator's manual steps and approves). */
export type ResponderFactory = (auto: Responder) => Responder;

/** The person at the terminal: `--as`, else the operating-system user. */
export function terminalActor(as: string | undefined): RunActor {
  const name = as ?? safeUserName();
  return { id: name, name, via: 'cli' };
}

function safeUserName(): string {
  try {
    return userInfo().username || 'terminal';
  } catch {
    return 'terminal';
  }
}

type Recover = Extract<CliCommand, { kind: 'recover' }>;
type Resume = Extract<CliCommand, { kind: 'resume' }>;

/** Who answers a run's questions: the prompt, or `--auto` (which asks the prompt for approvals, if any). */
function responderFor(cmd: Recover | Resume, io: CommandIo, wrapAuto?: ResponderFactory): Responder {
  let interactive: Responder | undefined;
  const prompt = (): Responder => {
    interactive ??= createInteractiveResponder({
      prompter: io.prompter(),
      style: io.style,
      print: io.print,
      ...(cmd.approver !== undefined ? { approver: cmd.approver } : {}),
    });
    return interactive;
  };
  if (!cmd.auto) return prompt();
  // `--auto` decides, never approves: approvals go to the person at the terminal, or the run waits for one.
  const auto = createAutoResponder({
    print: io.print,
    ...(io.interactive ? { approvals: { approve: (...args) => prompt().approve(...args) } } : {}),
  });
  return wrapAuto?.(auto) ?? auto;
}

/**
 * Follows a run in this process: the step workers, a watch on Redis that waits out its outages (and, when it is
 * back, reconciles at once), and the journal made complete before the process goes.
 */
async function followHere(
  ctx: CliContext,
  io: CommandIo,
  follow: (options: FollowOptions, startWorkers: () => Promise<void>) => Promise<RecoverResult>,
  cmd: Recover | Resume,
  wrapAuto?: ResponderFactory,
): Promise<number> {
  const runtime = await ctx.runtime('all');
  const redis = rideOutRedisOutages({
    url: ctx.config.redisUrl,
    connection: redisClientOptions(ctx.config.redisUrl, ctx.config.redis),
    where: serverOf(ctx.config.redisUrl, '6379')?.server ?? 'REDIS_URL',
    print: io.print,
    style: io.style,
    ...(ctx.logGate ? { logs: ctx.logGate } : {}),
    onBack: () => void runtime.reconcile().catch(() => undefined),
  });
  let workers = false;
  try {
    const result = await follow(
      {
        service: runtime.service,
        starter: terminalActor(cmd.as),
        responder: responderFor(cmd, io, wrapAuto),
        style: io.style,
        print: io.print,
        redis,
        ...(cmd.summaryDir !== undefined ? { summaryDir: cmd.summaryDir } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(io.printSummary === false ? { printSummary: false } : {}),
      },
      async () => {
        workers = true;
        await runtime.startWorkers();
      },
    );
    // The run is recorded in Redis already; this makes the durable journal complete before the process goes.
    if (workers) {
      await runtime.drainJournal(10_000).catch((err: unknown) => {
        ctx.logger.warn({ err }, 'the journal has not caught up yet; the bot will finish writing it');
      });
    }
    return result.exitCode;
  } finally {
    redis.close();
  }
}

export async function runRecover(
  cmd: Recover,
  ctx: CliContext,
  io: CommandIo,
  wrapAuto?: ResponderFactory,
): Promise<number> {
  const title = findScenario(cmd.scenario)?.title ?? cmd.scenario;
  io.print(
    io.style.dim(
      `Starting ${cmd.scenario} (${title}) as ${terminalActor(cmd.as).name}${cmd.auto ? ', automatic answers' : ''}…`,
    ),
  );
  // The workers start only once the run is: a start refused because another run is active must not run that one.
  return followHere(
    ctx,
    io,
    (options, startWorkers) =>
      recover({
        ...options,
        request: {
          scenario: cmd.scenario,
          ...(cmd.tenantId !== undefined ? { tenantId: cmd.tenantId } : {}),
          params: {
            ...(cmd.traceId !== undefined ? { traceId: cmd.traceId } : {}),
            ...(cmd.workflowId !== undefined ? { workflowId: cmd.workflowId } : {}),
            ...(cmd.release !== undefined ? { previousRelease: cmd.release } : {}),
            ...(cmd.upgradedAt !== undefined ? { upgradedAt: cmd.upgradedAt } : {}),
          },
        },
        onStarted: startWorkers,
      }),
    cmd,
    wrapAuto,
  );
}

export async function runResume(cmd: Resume, ctx: CliContext, io: CommandIo): Promise<number> {
  const runtime = await ctx.runtime('all');
  const run = await runtime.service.get(cmd.runId);
  if (run === null) {
    io.print(io.style.red(`No run ${cmd.runId} in the live log or the journal.`));
    return 1;
  }
  const { state } = run;
  if (state.outcome !== null) {
    io.print(
      `Run ${cmd.runId} has already finished: ${state.outcome.outcome}. \`dg-recovery summary ${cmd.runId}\` shows it.`,
    );
    return state.outcome.outcome === 'recovered' ? 0 : 1;
  }
  const at = state.currentStepId ? ` at ${state.currentStepId}` : '';
  io.print(
    io.style.dim(
      `Resuming run ${cmd.runId} (${state.scenario}, ${state.status.replaceAll('_', ' ')}${at}) as ${terminalActor(cmd.as).name}…`,
    ),
  );
  return followHere(
    ctx,
    io,
    async (options, startWorkers) => {
      await startWorkers();
      return resume(options, cmd.runId);
    },
    cmd,
  );
}

export async function runStatus(runId: string | undefined, ctx: CliContext, io: CommandIo): Promise<number> {
  const { print, style } = io;
  const runtime = await ctx.runtime('service');
  if (runId !== undefined) {
    const run = await runtime.service.get(runId);
    if (run === null) {
      print(style.red(`No run ${runId} in the live log or the journal.`));
      return 1;
    }
    const scenario = findScenario(run.state.scenario);
    for (const line of renderLog(run.events, { style, ...(scenario ? { scenario } : {}) })) print(line);
    print('');
    const s = run.state;
    print(
      s.outcome
        ? `Run ${runId} finished: ${s.outcome.outcome}.`
        : `Run ${runId} is ${s.status.replaceAll('_', ' ')}${s.currentStepId ? ` at ${s.currentStepId}` : ''}.`,
    );
    return 0;
  }
  const ctxForProbe = ctx.executors().forStep({ runId: 'status' });
  const [health, active] = await Promise.all([readHealth(ctxForProbe), runtime.service.listActive()]);
  print(
    style.bold(`DecisionGraph at ${ctx.config.decisionGraph.baseUrl}, tenant ${ctx.config.decisionGraph.tenantId}`),
  );
  for (const line of renderHealthVerdict(health.verdict, style)) print(line);
  print('');
  for (const line of renderActiveRuns(active, style)) print(line);
  print('');
  const where = stateLocation(ctx.config, {
    ...(ctx.runtimeOptions.prefix !== undefined ? { prefix: ctx.runtimeOptions.prefix } : {}),
    journalSchema: ctx.journal().schema,
  });
  for (const line of describeStateLocation(where)) print(style.dim(line));
  const lossWarning = redisPersistenceWarning(
    await readRedisPersistence(
      ctx.config.redisUrl,
      undefined,
      redisClientOptions(ctx.config.redisUrl, ctx.config.redis),
    ),
  );
  if (lossWarning !== undefined) print(style.yellow(lossWarning));
  return 0;
}

export async function runHistory(limit: number, ctx: CliContext, io: CommandIo): Promise<number> {
  const runs = await ctx.journal().listRuns({ limit });
  const service = (await ctx.runtime('service')).service;
  // The journal is written behind: a run still open in it (or missing who started it) is read from its log.
  const rows = await Promise.all(
    runs.map(async (run) => {
      const row = historyRowOf(run);
      if (row.outcome !== null && row.startedBy !== null) return row;
      const live = await service.get(run.runId).catch(() => null);
      if (live === null) return row;
      const s = live.state;
      return {
        ...row,
        startedBy: s.startedBy.name ?? s.startedBy.id,
        finishedAt: s.outcome?.at ?? row.finishedAt,
        outcome: s.outcome?.outcome ?? null,
      };
    }),
  );
  for (const line of renderHistory(rows, io.style)) io.print(line);
  return 0;
}

export async function runSummary(
  runId: string,
  summaryDir: string | undefined,
  ctx: CliContext,
  io: CommandIo,
): Promise<number> {
  const runtime = await ctx.runtime('service');
  const run = await runtime.service.get(runId);
  if (run === null) {
    io.print(io.style.red(`No run ${runId} in the live log or the journal.`));
    return 1;
  }
  const markdown = summaryMarkdown(run.events);
  io.print(markdown.trimEnd());
  const path = await writeSummaryFile(runId, run.events, summaryDir);
  io.print('');
  io.print(io.style.dim(`Summary written to ${path}`));
  return 0;
}

type Diagnose = Extract<CliCommand, { kind: 'diagnose' }>;

export async function runDiagnose(cmd: Diagnose, ctx: CliContext, io: CommandIo): Promise<number> {
  io.print(io.style.dim(`Probing DecisionGraph at ${ctx.config.decisionGraph.baseUrl} (read-only)…`));
  const diagnoser = createDiagnoser({ executors: ctx.executors(), logger: ctx.logger });
  const diagnosis = await diagnoser({
    ...(cmd.tenantId !== undefined ? { tenantId: cmd.tenantId } : {}),
    ...(cmd.currentRelease !== undefined ? { currentRelease: cmd.currentRelease } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  for (const line of renderDiagnosis(diagnosis, io.style)) io.print(line);
  return 0;
}

export async function runAbort(
  runId: string,
  reason: string,
  as: string | undefined,
  ctx: CliContext,
  io: CommandIo,
): Promise<number> {
  const runtime = await ctx.runtime('service');
  const outcome = await runtime.service.abort(runId, { actor: terminalActor(as), reason });
  if (!outcome.ok) {
    io.print(io.style.red(`Not aborted: ${outcome.message}`));
    return 1;
  }
  io.print(`Run ${runId} aborted: ${reason}`);
  return 0;
}
