import type { App, RespondArguments } from '@slack/bolt';
import { codeSpan, decodeSlackEntities } from '../bot/slack-text.js';
import { incidentSummaryMessage } from '../bot/thread/summary-message.js';
import { findScenario } from '../runbook/index.js';
import { accessFlags, allowedChannelsText, isChannelAllowed } from './authorise.js';
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
  const flags = accessFlags(deps.access, userId);
  if (cmd.kind === 'help') {
    const where =
      deps.access.channels.length > 0 ? `\n_Commands are taken in ${allowedChannelsText(deps.access)}._` : '';
    await ack(ephemeral(helpText(flags, cmd.topic) + where));
    return;
  }
  if (!isChannelAllowed(deps.access, channelId)) {
    return refuse(
      cmd.kind,
      'channel_not_allowed',
      `:no_entry: \`/dg ${cmd.kind}\` is not taken in this channel. Use ${allowedChannelsText(deps.access)}.`,
    );
  }
  if (!mayRun(cmd.kind, flags)) {
    return refuse(
      cmd.kind,
      'not_operator',
      `:no_entry: Only recovery operators can run \`/dg ${cmd.kind}\`. \`/dg help\` lists what you can run.`,
    );
  }
  await dispatch(cmd, args, deps);
}

async function dispatch(cmd: Exclude<DgCommand, { kind: 'help' }>, args: DgCommandArgs, deps: HandlerDeps) {
  const { command, ack } = args;
  const actor = slackActor({ id: command.user_id, ...(command.user_name ? { username: command.user_name } : {}) });
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
        const isOperator = accessFlags(deps.access, command.user_id).isOperator;
        await reply(ephemeral(...diagnosisReply(diagnosis, isOperator)));
      } catch (err) {
        await failed(err);
      }
      return;
    }
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
