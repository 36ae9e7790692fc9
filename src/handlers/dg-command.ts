import type { App, RespondArguments } from '@slack/bolt';
import { codeSpan, decodeSlackEntities } from '../bot/slack-text.js';
import { SummaryUploadFailedError } from '../bot/summary-file/index.js';
import { incidentFileName, incidentSummaryMessage } from '../bot/thread/summary-message.js';
import { findScenario, type RunEvent, type Scenario } from '../runbook/index.js';
import { type Authorisation, accessRefusal, allowedChannelsText, authorise, isChannelAllowed } from './authorise.js';
import { type DgCommand, parseCommand } from './command-grammar.js';
import { commandHelp, helpText, mayRun } from './command-help.js';
import { diagnosisReply } from './diagnose-reply.js';
import { type HandlerDeps, slackActor } from './handler-deps.js';
import { recordRefusal, refusalText } from './refusals.js';
import { activeRunsText, historyText, runStatusText } from './status-text.js';

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

function ephemeral(text: string, extra: Partial<RespondArguments> = {}): RespondArguments {
  return { response_type: 'ephemeral', text, ...extra } as RespondArguments;
}

/**
 * `/dg …`: parse, authorise, acknowledge, then hand over. The acknowledgement goes out before anything touches
 * Redis or Slack, so Slack always has its answer within its 3 s; it carries the final answer when there is
 * nothing slow to do (help, a typo, a refusal), and a "starting…" note otherwise, followed by the outcome through
 * the response URL.
 */
export async function handleDgCommand(args: DgCommandArgs, deps: HandlerDeps): Promise<void> {
  const { command, ack } = args;
  const userId = command.user_id;
  const channelId = command.channel_id;
  const refuse = async (action: string, code: string, text: string, runId?: string) => {
    recordRefusal(deps.logger, { userId, action, code, channelId, ...(runId ? { runId } : {}) });
    await ack(ephemeral(text));
  };

  const parsed = parseCommand(decodeSlackEntities(command.text));
  if (!parsed.ok) {
    const { error } = parsed;
    const usage = error.command && error.command !== 'help' ? `\n${commandHelp(error.command)}` : '';
    return refuse(error.command ?? 'dg', error.code, `${error.message}${usage}`);
  }
  const cmd = parsed.command;
  const user = { id: userId, ...(command.user_name ? { username: command.user_name } : {}) };
  if (cmd.kind === 'help') {
    const where =
      deps.access.channels.length > 0 ? `\n_Commands are taken in ${allowedChannelsText(deps.access)}._` : '';
    await ack(ephemeral(helpText(await authorise(deps, user), cmd.topic) + where));
    return;
  }
  if (!isChannelAllowed(deps.access, channelId)) {
    return refuse(
      cmd.kind,
      'channel_not_allowed',
      `:no_entry: \`/dg ${cmd.kind}\` is not taken in this channel. Use ${allowedChannelsText(deps.access)}.`,
    );
  }
  // Only commands for operators wait for the person's user groups (read from Slack unless cached).
  const nobody = { isOperator: false, isApprover: false };
  const auth = mayRun(cmd.kind, nobody) ? undefined : await authorise(deps, user);
  if (auth && !mayRun(cmd.kind, auth)) {
    const refusal = accessRefusal(
      auth,
      'not_operator',
      `:no_entry: Only recovery operators can run \`/dg ${cmd.kind}\`. \`/dg help\` lists what you can run.`,
    );
    return refuse(cmd.kind, refusal.code, refusal.text);
  }
  await dispatch(cmd, args, deps, auth);
}

async function dispatch(
  cmd: Exclude<DgCommand, { kind: 'help' }>,
  args: DgCommandArgs,
  deps: HandlerDeps,
  auth: Authorisation | undefined,
) {
  const { command, ack } = args;
  const user = { id: command.user_id, ...(command.user_name ? { username: command.user_name } : {}) };
  // Commands anyone may run are not authorised and act as the person alone.
  const actor = auth?.actor ?? slackActor(user);
  const reply = async (message: RespondArguments) => {
    try {
      await args.respond(message);
    } catch (err) {
      deps.logger.warn({ err, command: cmd.kind }, 'could not answer through the response URL');
    }
  };
  const failed = (err: unknown) => {
    deps.logger.error({ err, command: cmd.kind }, 'command failed');
    return reply(
      ephemeral(':warning: Something went wrong on the bot’s side; nothing was changed. Try again shortly.'),
    );
  };

  switch (cmd.kind) {
    case 'recover': {
      await ack(ephemeral(`:hourglass_flowing_sand: Starting a ${codeSpan(cmd.scenario, 40)} recovery run…`));
      try {
        const started = await deps.service.start({
          scenario: cmd.scenario,
          ...(cmd.tenantId ? { tenantId: cmd.tenantId } : {}),
          ...(cmd.traceId ? { params: { traceId: cmd.traceId } } : {}),
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
      } catch (err) {
        await failed(err);
      }
      return;
    }
    case 'abort': {
      await ack(ephemeral(`:hourglass_flowing_sand: Aborting run ${codeSpan(cmd.runId, 80)}…`));
      try {
        const outcome = await deps.service.abort(cmd.runId, { actor, reason: cmd.reason });
        if (outcome.ok) {
          await reply(ephemeral(`:no_entry_sign: Run ${codeSpan(cmd.runId, 80)} is aborted; its thread says so.`));
          return;
        }
        recordRefusal(deps.logger, { userId: actor.id, action: 'abort', code: outcome.code, runId: cmd.runId });
        await reply(ephemeral(refusalText(outcome.code, outcome.message, cmd.runId)));
      } catch (err) {
        await failed(err);
      }
      return;
    }
    case 'status': {
      await ack();
      try {
        if (cmd.runId === undefined) {
          const [runs, health] = await Promise.all([
            deps.service.listActive(),
            deps.health?.().catch((err: unknown) => {
              deps.logger.warn({ err }, 'health probe for /dg status failed');
              return 'DecisionGraph: the health probe failed';
            }),
          ]);
          const lines = [health, activeRunsText(runs, deps.stateNote)].filter((l) => l !== undefined);
          await reply(ephemeral(lines.join('\n')));
          return;
        }
        const run = await deps.service.get(cmd.runId);
        const scenario = run ? (deps.scenarioFor?.(run.state.scenario) ?? findScenario(run.state.scenario)) : undefined;
        if (!run || !scenario) {
          await reply(ephemeral(refusalText('unknown_run', '', cmd.runId)));
          return;
        }
        await reply(ephemeral(runStatusText(run.events, scenario)));
      } catch (err) {
        await failed(err);
      }
      return;
    }
    case 'summary': {
      await ack();
      try {
        const runId = cmd.runId ?? (await latestRunId(deps));
        const run = runId ? await deps.service.get(runId) : null;
        const scenario = run ? (deps.scenarioFor?.(run.state.scenario) ?? findScenario(run.state.scenario)) : undefined;
        if (!run || !scenario) {
          await reply(ephemeral(runId ? refusalText('unknown_run', '', runId) : 'No run recorded yet.'));
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
      } catch (err) {
        await failed(err);
      }
      return;
    }
    case 'history': {
      if (!deps.history) {
        await ack(ephemeral(`\`/dg history\`${NOT_AVAILABLE}`));
        return;
      }
      await ack();
      try {
        await reply(ephemeral(historyText(await deps.history(cmd.limit ?? 10))));
      } catch (err) {
        await failed(err);
      }
      return;
    }
    case 'diagnose': {
      if (!deps.diagnose) {
        await ack(ephemeral(`\`/dg diagnose\`${NOT_AVAILABLE}`));
        return;
      }
      await ack(ephemeral(':mag: Running read-only probes of DecisionGraph and its Postgres…'));
      try {
        const diagnosis = await deps.diagnose();
        // The start button is shown to operators only (and checked again when clicked).
        const { isOperator } = await authorise(deps, user);
        await reply(ephemeral(...diagnosisReply(diagnosis, isOperator)));
      } catch (err) {
        await failed(err);
      }
      return;
    }
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
