import type { App, RespondArguments } from '@slack/bolt';
import { SummaryUploadFailedError } from '../projections/summary-file/index.js';
import { incidentFileName, incidentSummaryMessage } from '../projections/thread/summary-message.js';
import { findScenario, type RunEvent, type Scenario } from '../runbook/index.js';
import { formatDuration } from '../runbook/time-format.js';
import { codeSpan, decodeSlackEntities } from '../slack/slack-text.js';
import { afterAck } from './after-ack-queue.js';
import {
  type Authorisation,
  accessRefusal,
  allowedChannelsText,
  authorise,
  authoriseNow,
  isChannelAllowed,
  runChannelRefusal,
} from './authorise.js';
import { type DgCommand, parseCommand } from './command-grammar.js';
import { commandHelp, helpText, mayRun } from './command-help.js';
import { diagnosisReply } from './diagnose-reply.js';
import { type HandlerDeps, slackActor } from './handler-deps.js';
import { historyReply } from './history-reply.js';
import { recordRefusal, refusalText } from './refusals.js';
import type { Reply } from './reply-blocks.js';
import { type HealthOutcome, runStatusReply, statusReply } from './status-reply.js';

/** The parts of Bolt's slash-command arguments the listener uses (so tests can pass plain fakes). */
export interface DgCommandArgs {
  readonly command: {
    readonly text: string;
    readonly user_id: string;
    readonly user_name?: string;
    readonly channel_id: string;
  };
  readonly ack: (response?: string | RespondArguments) => Promise<void>;
  readonly respond: (message: RespondArguments) => Promise<unknown>;
}

const NOT_AVAILABLE = ' is not available yet in this installation.';
const DEFAULT_HEALTH_TIMEOUT_MS = 6000;

function ephemeral(text: string, extra: Partial<RespondArguments> = {}): RespondArguments {
  return { response_type: 'ephemeral', text, ...extra } as RespondArguments;
}

function ephemeralReply(reply: Reply): RespondArguments {
  return ephemeral(reply.text, { blocks: reply.blocks } as Partial<RespondArguments>);
}

/**
 * What a command does: the acknowledgement (the final answer when there is no `work`, a progress note otherwise)
 * and the work that follows it, answered through the response URL.
 */
interface Plan {
  readonly ack?: RespondArguments;
  readonly work?: () => Promise<void>;
}

type Person = { id: string; username?: string };

/**
 * `/dg …`: parse, authorise, acknowledge, then hand over. The acknowledgement goes out before anything waits on
 * Redis, Slack or DecisionGraph, so Slack always has its answer within its 3 s and a burst of commands is
 * acknowledged before any of their work runs (that work goes through `deps.afterAck`). It carries the final
 * answer when there is nothing slow to do (help, a typo, a refusal), and a "starting…" note otherwise, followed
 * by the outcome through the response URL. When the person's standing needs Slack (user groups not cached), the
 * acknowledgement is empty and every answer, a refusal included, follows through the response URL.
 */
export async function handleDgCommand(args: DgCommandArgs, deps: HandlerDeps): Promise<void> {
  const { command, ack } = args;
  const userId = command.user_id;
  const channelId = command.channel_id;
  const user: Person = { id: userId, ...(command.user_name ? { username: command.user_name } : {}) };
  const refuse = async (action: string, code: string, text: string) => {
    recordRefusal(deps.logger, { userId, action, code, channelId });
    await ack(ephemeral(text));
  };

  const parsed = parseCommand(decodeSlackEntities(command.text));
  if (!parsed.ok) {
    const { error } = parsed;
    const usage = error.command && error.command !== 'help' ? `\n${commandHelp(error.command)}` : '';
    return refuse(error.command ?? 'dg', error.code, `${error.message}${usage}`);
  }
  const cmd = parsed.command;
  if (cmd.kind === 'help') {
    const where =
      deps.access.channels.length > 0 ? `\n_Commands are taken in ${allowedChannelsText(deps.access)}._` : '';
    const known = authoriseNow(deps, user);
    if (known) return ack(ephemeral(helpText(known, cmd.topic) + where));
    await ack();
    return afterAck(deps.afterAck, async () => {
      await replier(args, deps, 'help')(ephemeral(helpText(await authorise(deps, user), cmd.topic) + where));
    });
  }
  if (!isChannelAllowed(deps.access, channelId)) {
    return refuse(
      cmd.kind,
      'channel_not_allowed',
      `:no_entry: \`/dg ${cmd.kind}\` is not taken in this channel. Use ${allowedChannelsText(deps.access)}.`,
    );
  }
  // Commands anyone may run are not authorised and act as the person alone.
  const nobody = { isOperator: false, isApprover: false };
  if (mayRun(cmd.kind, nobody)) return carryOut(plan(cmd, args, deps, undefined), args, deps);
  const known = authoriseNow(deps, user);
  if (known) {
    const refusal = operatorRefusal(cmd.kind, known);
    if (refusal) return refuse(cmd.kind, refusal.code, refusal.text);
    return carryOut(plan(cmd, args, deps, known), args, deps);
  }
  await ack();
  return afterAck(deps.afterAck, async () => {
    const auth = await authorise(deps, user);
    const refusal = operatorRefusal(cmd.kind, auth);
    if (refusal) {
      recordRefusal(deps.logger, { userId, action: cmd.kind, code: refusal.code, channelId });
      return replier(args, deps, cmd.kind)(ephemeral(refusal.text));
    }
    // Slack already has its (empty) acknowledgement: a progress note is left out, a final answer follows.
    const p = plan(cmd, args, deps, auth);
    if (p.work) await p.work();
    else if (p.ack) await replier(args, deps, cmd.kind)(p.ack);
  });
}

function operatorRefusal(kind: DgCommand['kind'], auth: Authorisation): { code: string; text: string } | undefined {
  if (mayRun(kind, auth)) return undefined;
  return accessRefusal(
    auth,
    'not_operator',
    `:no_entry: Only recovery operators can run \`/dg ${kind}\`. \`/dg help\` lists what you can run.`,
  );
}

async function carryOut(p: Plan, args: DgCommandArgs, deps: HandlerDeps): Promise<void> {
  if (p.ack) await args.ack(p.ack);
  else await args.ack();
  if (p.work) await afterAck(deps.afterAck, p.work);
}

/** Answers through the response URL; a failure to do so is logged, never thrown. */
function replier(args: DgCommandArgs, deps: HandlerDeps, kind: string) {
  return async (message: RespondArguments) => {
    try {
      await args.respond(message);
    } catch (err) {
      deps.logger.warn({ err, command: kind }, 'could not answer through the response URL');
    }
  };
}

/** The scenario a run follows, or `undefined` for one this version does not know. */
function scenarioOf(deps: HandlerDeps, name: string): Scenario | undefined {
  try {
    return deps.scenarioFor?.(name) ?? findScenario(name);
  } catch {
    return findScenario(name);
  }
}

function plan(
  cmd: Exclude<DgCommand, { kind: 'help' }>,
  args: DgCommandArgs,
  deps: HandlerDeps,
  auth: Authorisation | undefined,
): Plan {
  const { command } = args;
  const user: Person = { id: command.user_id, ...(command.user_name ? { username: command.user_name } : {}) };
  const actor = auth?.actor ?? slackActor(user);
  const reply = replier(args, deps, cmd.kind);
  // Work that throws is logged, and the person told nothing was changed.
  const guarded = (work: () => Promise<void>) => async () => {
    try {
      await work();
    } catch (err) {
      deps.logger.error({ err, command: cmd.kind }, 'command failed');
      await reply(
        ephemeral(':warning: Something went wrong on the bot’s side; nothing was changed. Try again shortly.'),
      );
    }
  };

  switch (cmd.kind) {
    case 'recover':
      return {
        ack: ephemeral(`:hourglass_flowing_sand: Starting a ${codeSpan(cmd.scenario, 40)} recovery run…`),
        work: guarded(async () => {
          const started = await deps.service.start({
            scenario: cmd.scenario,
            ...(cmd.tenantId ? { tenantId: cmd.tenantId } : {}),
            params: {
              ...(cmd.traceId ? { traceId: cmd.traceId } : {}),
              ...(cmd.upgradedAt ? { upgradedAt: cmd.upgradedAt } : {}),
            },
            actor,
            channelId: command.channel_id,
          });
          if (started.ok) {
            await reply(
              ephemeral(
                `:rocket: Started run ${codeSpan(started.runId, 80)}. The bot opens a thread in this channel and ` +
                  `posts every step there. \`/dg status ${started.runId}\` shows where it stands.`,
              ),
            );
            return;
          }
          recordRefusal(deps.logger, {
            userId: actor.id,
            action: 'recover',
            code: started.code,
            channelId: command.channel_id,
            ...(started.activeRunId ? { runId: started.activeRunId } : {}),
          });
          await reply(ephemeral(refusalText(started.code, started.message)));
        }),
      };
    case 'abort':
      return {
        ack: ephemeral(`:hourglass_flowing_sand: Aborting run ${codeSpan(cmd.runId, 80)}…`),
        work: guarded(async () => {
          const outcome = await deps.service.abort(cmd.runId, { actor, reason: cmd.reason });
          if (outcome.ok) {
            await reply(ephemeral(`:no_entry_sign: Run ${codeSpan(cmd.runId, 80)} is aborted; its thread says so.`));
            return;
          }
          recordRefusal(deps.logger, { userId: actor.id, action: 'abort', code: outcome.code, runId: cmd.runId });
          await reply(ephemeral(refusalText(outcome.code, outcome.message, cmd.runId)));
        }),
      };
    case 'status': {
      const { runId } = cmd;
      return {
        work: guarded(async () => {
          if (runId === undefined) {
            const [runs, health] = await Promise.all([deps.service.listActive(), probeHealth(deps)]);
            const stepTitle = (scenario: string, stepId: string) =>
              scenarioOf(deps, scenario)?.steps.find((s) => s.id === stepId)?.title;
            await reply(
              ephemeralReply(
                statusReply({
                  runs,
                  stepTitle,
                  ...(health ? { health } : {}),
                  ...(deps.stateNote ? { stateNote: deps.stateNote } : {}),
                }),
              ),
            );
            return;
          }
          const run = await deps.service.get(runId);
          const scenario = run ? scenarioOf(deps, run.state.scenario) : undefined;
          if (!run || !scenario) {
            await reply(ephemeral(refusalText('unknown_run', '', runId)));
            return;
          }
          await reply(ephemeralReply(runStatusReply(run.events, scenario)));
        }),
      };
    }
    case 'summary':
      return {
        work: guarded(async () => {
          const runId = cmd.runId ?? (await latestRunId(deps));
          const run = runId ? await deps.service.get(runId) : null;
          const scenario = run ? scenarioOf(deps, run.state.scenario) : undefined;
          if (!run || !scenario) {
            await reply(ephemeral(runId ? refusalText('unknown_run', '', runId) : 'No run recorded yet.'));
            return;
          }
          // Posted for the whole channel: only in the run's own channel, or one the allow-list names.
          const place =
            deps.access.channels.length === 0 ? runChannelRefusal(deps, command.channel_id, run.state) : undefined;
          if (place) {
            recordRefusal(deps.logger, {
              userId: actor.id,
              action: 'summary',
              code: place.code,
              runId: run.state.runId,
              channelId: command.channel_id,
            });
            await reply(ephemeral(place.text));
            return;
          }
          const summary = incidentSummaryMessage(run.events, scenario);
          // Posted for everyone in the channel: the summary is what the incident record is made of.
          await reply({
            response_type: 'in_channel',
            text: summary.text,
            blocks: [...summary.blocks],
          } as RespondArguments);
          const fileProblem = await postSummaryFile(deps, run.events, scenario, command.channel_id);
          if (fileProblem) await reply(ephemeral(fileProblem));
        }),
      };
    case 'history': {
      const { history } = deps;
      if (!history) return { ack: ephemeral(`\`/dg history\`${NOT_AVAILABLE}`) };
      return {
        work: guarded(async () => {
          await reply(ephemeralReply(historyReply(await history(cmd.limit ?? 10))));
        }),
      };
    }
    case 'diagnose': {
      const { diagnose } = deps;
      if (!diagnose) return { ack: ephemeral(`\`/dg diagnose\`${NOT_AVAILABLE}`) };
      return {
        ack: ephemeral(':mag: Running read-only probes of DecisionGraph and its Postgres…'),
        work: guarded(async () => {
          const diagnosis = await diagnose();
          // The start button is shown to operators only (and checked again when clicked).
          const { isOperator } = auth ?? (await authorise(deps, user));
          await reply(ephemeral(...diagnosisReply(diagnosis, isOperator)));
        }),
      };
    }
  }
}

const TIMED_OUT = Symbol('timed out');

/** The checklist's reading for `/dg status`, given up on after `healthTimeoutMs` so the answer never hangs. */
async function probeHealth(deps: HandlerDeps): Promise<HealthOutcome | undefined> {
  if (!deps.health) return undefined;
  const timeoutMs = deps.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    const reading = await Promise.race([deps.health(), deadline]);
    if (reading === TIMED_OUT) {
      deps.logger.warn({ timeoutMs }, 'health probe for /dg status timed out');
      return { kind: 'failed', reason: `the probes did not answer within ${formatDuration(timeoutMs)}` };
    }
    return { kind: 'reading', reading };
  } catch (err) {
    deps.logger.warn({ err }, 'health probe for /dg status failed');
    return { kind: 'failed', reason: 'the probes failed on the bot’s side (its log says why)' };
  } finally {
    clearTimeout(timer);
  }
}

/** Posts the run's Markdown file below the summary; returns what to tell the person when Slack did not take it. */
async function postSummaryFile(
  deps: HandlerDeps,
  events: readonly RunEvent[],
  scenario: Scenario,
  channelId: string,
): Promise<string | undefined> {
  const runId = events[0]?.runId;
  if (!deps.postSummaryFile || runId === undefined) return undefined;
  try {
    await deps.postSummaryFile({ runId, events, scenario, channelId });
    return undefined;
  } catch (err) {
    const code = err instanceof SummaryUploadFailedError ? err.failure.code : 'unexpected_error';
    deps.logger.warn({ err, runId, code }, 'could not post the summary file for /dg summary');
    const name = codeSpan(incidentFileName(runId), 100);
    return code === 'not_in_channel'
      ? `:warning: The Markdown file ${name} could not be posted: the bot is not in this channel. ` +
          'Invite it with `/invite @dg-recovery` and run `/dg summary` again.'
      : `:warning: The Markdown file ${name} could not be posted (${codeSpan(code, 40)}). Try \`/dg summary\` again shortly.`;
  }
}

async function latestRunId(deps: HandlerDeps): Promise<string | undefined> {
  const active = await deps.service.listActive();
  if (active[0]) return active[0].runId;
  const recent = deps.history ? await deps.history(1) : [];
  return recent[0]?.runId;
}

export function register(app: App, deps: HandlerDeps): void {
  app.command('/dg', async ({ command, ack, respond }) => {
    await handleDgCommand({ command, ack, respond }, deps);
  });
}
