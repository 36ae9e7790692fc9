import { randomBytes } from 'node:crypto';
import { removeAllQueueData } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import {
  createReaderRole,
  type ReaderRole,
  type SimulatorHandle,
  type SimulatorOptions,
  simHostActions,
  startSimulator,
} from '../../sim/index.js';
import { type RunningBot, type StartBotOptions, startBot } from '../../src/bot/bot.js';
import { type Config, loadConfig } from '../../src/config/env.js';
import { parseRecoveryConfig, type RecoveryConfig } from '../../src/config/recovery-config.js';
import { STEP_QUEUE } from '../../src/jobs/queues.js';
import { createLogger } from '../../src/logger.js';
import { ACTION, REASON_INPUT } from '../../src/projections/thread/index.js';
import type { RunState } from '../../src/runbook/index.js';
import { assertWithinLimits } from '../../src/slack/blocks/validate.js';
import { SLACK_OUTBOX_QUEUE } from '../../src/slack/outbox/index.js';
import { FakeSlack, RESPONSE_URL, type StoredMessage } from '../helpers/fake-slack.js';
import { createTempDatabase, type TempDatabase } from '../helpers/pg.js';
import {
  clickButtonPayload,
  interactionFields,
  newTriggerId,
  postSignedForm,
  type SignedResponse,
  slashCommandFields,
  viewSubmissionPayload,
} from '../helpers/slack-requests.js';
import { TEST_TIME_SCALE } from '../helpers/time-scale.js';

// One bot as it runs in production (Bolt's HTTP receiver, the run service, step workers, the outbox, the thread
// projector), talking to a fake Slack and to the simulator as DecisionGraph, on the machine's Redis (a key prefix
// of its own) and Postgres (a database of its own). The test acts as people in the channel: it types commands
// and clicks the buttons the bot posted, with requests signed as Slack signs them.

export const SIGNING_SECRET = 'e2e-signing-secret';
export const CHANNEL = 'C0INCIDENT';
export const OTHER_CHANNEL = 'C0RANDOM';
/** Starts runs. */
export const ANA = { id: 'U0ANA', name: 'ana' };
/** Operator and approver: the second person. */
export const BO = { id: 'U0BO', name: 'bo' };
/** In the channel, but neither operator nor approver. */
export const EVE = { id: 'U0EVE', name: 'eve' };

/** Delays shrunk 50 times (a 2 s poll becomes 40 ms), deadlines 4 times: see {@link TEST_TIME_SCALE}. */
export const TIME_SCALE = TEST_TIME_SCALE;

export interface Person {
  readonly id: string;
  readonly name: string;
}

/** Operators and approvers of the recovery config (user ids, or `S…` user groups). */
export interface AccessLists {
  readonly operators?: readonly string[];
  readonly approvers?: readonly string[];
  /** @defaultValue the incident channel alone */
  readonly channels?: readonly string[];
}

function recoveryFor(sim: SimulatorHandle, lists: AccessLists = {}, timeoutSeconds = 10): RecoveryConfig {
  const yaml = stringify({
    actions: simHostActions(sim.controlUrl, { timeoutSeconds }),
    access: {
      operators: lists.operators ?? [ANA.id, BO.id],
      approvers: lists.approvers ?? [ANA.id, BO.id],
      channels: lists.channels ?? [CHANNEL],
      two_person_rule: true,
    },
    release: { previous_known_good: 'v1' },
  });
  return parseRecoveryConfig(yaml, 'e2e.yaml', { SIM_CONTROL_TOKEN: sim.controlToken });
}

export interface E2EOptions {
  readonly sim?: SimulatorOptions;
  /** @defaultValue Ana and Bo operate and approve */
  readonly access?: AccessLists;
  /** `timeout_s` of every host action's webhook. @defaultValue 10 */
  readonly hostActionTimeoutSeconds?: number;
  readonly bot?: Partial<Omit<StartBotOptions, 'logger'>>;
  /** @defaultValue the machine's Redis, `redis://127.0.0.1:6379` */
  readonly redisUrl?: string;
  /** More environment variables for the bot's configuration, e.g. `ALERT_WEBHOOK_TOKEN`. */
  readonly env?: Readonly<Record<string, string>>;
}

export class E2E {
  private constructor(
    readonly fake: FakeSlack,
    readonly sim: SimulatorHandle,
    readonly db: TempDatabase,
    readonly prefix: string,
    readonly config: Config,
    /** Replaced by {@link restartBot}. */
    public bot: RunningBot,
    public url: string,
    private readonly readerRole: ReaderRole,
    private readonly startAgain: () => Promise<RunningBot>,
  ) {}

  /** Stops the bot and starts another on the same Redis prefix, journal and fake Slack, as a restarted process. */
  async restartBot(): Promise<void> {
    await this.bot.stop();
    this.bot = await this.startAgain();
    this.url = `http://127.0.0.1:${this.bot.port}/slack/events`;
  }

  static async start(options: E2EOptions = {}): Promise<E2E> {
    const fake = await FakeSlack.start();
    const sim = await startSimulator({ seed: { tracesPerTenant: 30 }, ...options.sim });
    const db = await createTempDatabase('dge2e');
    const prefix = `dge2e-${randomBytes(5).toString('hex')}:`;
    const reader = await createReaderRole(sim.databaseUrl, 'dge2e_reader');
    const config = loadConfig({
      DG_BASE_URL: sim.url,
      DG_API_TOKEN: 'dev-reader-token',
      DG_ADMIN_TOKEN: 'dev-admin-token',
      DG_DATABASE_URL: reader.url,
      DG_KNOWN_TRACE_ID: sim.known.traceId,
      DATABASE_URL: db.url,
      REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
      SLACK_BOT_TOKEN: fake.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      PORT: '0',
      ...options.env,
    });
    const recovery = recoveryFor(sim, options.access, options.hostActionTimeoutSeconds);
    const start = () =>
      startBot(config, recovery, {
        logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        role: 'all',
        port: 0,
        prefix,
        ...options.bot,
        runtime: {
          timeScale: TIME_SCALE,
          reconcileIntervalMs: 0,
          journalWriter: { backoffBaseMs: 50, backoffMaxMs: 500, sweepIntervalMs: 0 },
          // The simulator's database URL is its superuser's, which the role guard refuses.
          executorDeps: { requireReadOnlyRole: false },
          ...options.bot?.runtime,
        },
        outbox: { backoffBaseMs: 50, backoffMaxMs: 400, sweepIntervalMs: 0, lockRetryMs: 20, ...options.bot?.outbox },
        summaryFile: { backoffBaseMs: 50, backoffMaxMs: 400, lockRetryMs: 20, ...options.bot?.summaryFile },
      });
    const bot = await start();
    return new E2E(fake, sim, db, prefix, config, bot, `http://127.0.0.1:${bot.port}/slack/events`, reader, start);
  }

  async close(): Promise<void> {
    await this.bot.stop();
    const redis = new Redis(this.config.redisUrl, { maxRetriesPerRequest: 3 });
    redis.on('error', () => undefined);
    try {
      const bull = this.prefix.replace(/:$/, '');
      for (const queue of [STEP_QUEUE, 'journal', SLACK_OUTBOX_QUEUE]) {
        await removeAllQueueData(redis.duplicate(), queue, bull).catch(() => undefined);
      }
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    await this.sim.close();
    await this.readerRole.drop().catch(() => undefined);
    await this.fake.close();
    await this.db.drop();
  }

  // ---- people acting -------------------------------------------------------------------------------------------

  /** Types `/dg <text>` in a channel; returns the HTTP answer (Bolt's ack) and the response URL's id. */
  async command(
    who: Person,
    text: string,
    channelId = CHANNEL,
  ): Promise<{ res: SignedResponse; responseId: string; ack: { text?: string } }> {
    const responseId = `cmd-${randomBytes(4).toString('hex')}`;
    const res = await postSignedForm(
      this.url,
      SIGNING_SECRET,
      slashCommandFields({
        text,
        responseUrl: this.fake.responseUrl(responseId),
        userId: who.id,
        userName: who.name,
        channelId,
      }),
    );
    let ack: { text?: string } = {};
    try {
      ack = res.text ? (JSON.parse(res.text) as { text?: string }) : {};
    } catch {
      ack = { text: res.text };
    }
    return { res, responseId, ack };
  }

  /** Clicks a button in a message the bot posted, as Slack sends the click. */
  async click(who: Person, message: StoredMessage, actionId: string, value?: string, triggerId = newTriggerId()) {
    const payload = clickButtonPayload(message, actionId, {
      responseUrl: this.fake.responseUrl(),
      userId: who.id,
      triggerId,
      ...(value !== undefined ? { value } : {}),
    });
    (payload.user as { username: string }).username = who.name;
    return postSignedForm(this.url, SIGNING_SECRET, interactionFields(payload));
  }

  /** Submits the dialog opened with `triggerId`, typing `values` (`block → text`). */
  async submit(who: Person, triggerId: string, values: Record<string, string>): Promise<SignedResponse> {
    const view = this.fake.views().find((v) => v.trigger_id === triggerId);
    if (!view) throw new Error(`no dialog was opened for trigger ${triggerId}`);
    const stored = view.view as { callback_id: string; private_metadata?: string };
    const payload = viewSubmissionPayload({
      viewId: view.id,
      callbackId: stored.callback_id,
      privateMetadata: stored.private_metadata ?? '',
      values: Object.fromEntries(Object.entries(values).map(([block, text]) => [block, { [block]: text }])),
      userId: who.id,
      view: view.view,
    });
    return postSignedForm(this.url, SIGNING_SECRET, interactionFields(payload));
  }

  /** The thread message showing the buttons of the run's latest request of `type` (an older copy is refused). */
  private async latestRequest(runId: string, type: 'decision_requested' | 'approval_requested', what: string) {
    await expect
      .poll(async () => (await this.bot.runtime.service.get(runId))?.state.status, { timeout: 15_000 })
      .toMatch(type === 'decision_requested' ? 'waiting_decision' : 'waiting_approval');
    const events = (await this.bot.runtime.service.get(runId))?.events ?? [];
    const seq = events.filter((e) => e.type === type).at(-1)?.seq;
    return this.until(
      () => this.thread(runId).find((m) => buttons(m).some((b) => b.value?.endsWith(`|v${seq}`))),
      what,
    );
  }

  /** Clicks the recommended option of the open decision (typing `reason` when it asks for one); returns its id. */
  async decideRecommended(who: Person, runId: string, reason = 'as the evidence recommends'): Promise<string> {
    const message = await this.latestRequest(runId, 'decision_requested', `a decision of ${runId}`);
    const option = buttons(message).find((b) => b.text.startsWith('★')) ?? buttons(message)[0];
    if (!option) throw new Error(`no option to click in ${textOf(message)}`);
    const trigger = newTriggerId();
    await this.click(who, message, option.actionId, option.value, trigger);
    if (option.actionId.startsWith(ACTION.decideWithReason)) {
      await this.until(() => this.fake.views().find((v) => v.trigger_id === trigger), 'the reason dialog');
      await this.submit(who, trigger, { [REASON_INPUT.block]: reason });
    }
    return option.value?.split('|')[2] ?? '';
  }

  /** Clicks Approve on the open approval request. */
  async approve(who: Person, runId: string): Promise<void> {
    const message = await this.latestRequest(runId, 'approval_requested', `an approval of ${runId}`);
    await this.click(who, message, ACTION.approve);
  }

  /** Resolves with the run's state once it has finished, read from the run log (not from Slack). */
  async runFinished(runId: string, timeoutMs = 20_000): Promise<RunState> {
    const service = this.bot.runtime.service;
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const stop = await service.subscribe(
      runId,
      (e) => {
        if (e.type === 'run_finished') resolveDone();
      },
      { fromSeq: 1 },
    );
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        done,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`run ${runId} did not finish`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await stop();
    }
    const run = await service.get(runId);
    if (!run) throw new Error(`run ${runId} vanished`);
    return run.state;
  }

  // ---- reading the channel --------------------------------------------------------------------------------------

  /** The run's thread without the files shared in it: the messages the outbox posts. */
  messages(runId: string): StoredMessage[] {
    return this.thread(runId).filter((m) => m.files === undefined);
  }

  /** The files shared in the run's thread, one entry per share. */
  sharedFiles(runId: string): StoredMessage[] {
    return this.thread(runId).filter((m) => m.files !== undefined);
  }

  /** The run's thread: the header (found by run id) and its replies, as a person reads them now. */
  thread(runId: string): StoredMessage[] {
    const header = this.fake.channelMessages(CHANNEL).find((m) => m.thread_ts === undefined && m.text?.includes(runId));
    return header ? this.fake.thread(CHANNEL, header.ts) : [];
  }

  /** Resolves once `predicate` holds on what the fake stores, re-checked after every call it serves. */
  until<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let value: T | undefined | false;
        try {
          value = predicate();
        } catch {
          value = undefined;
        }
        if (value !== undefined && value !== false) {
          clearTimeout(timer);
          this.fake.off('call', check);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.fake.off('call', check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.fake.on('call', check);
      check();
    });
  }

  /** The run id the bot announced to the person who typed `/dg recover` (through the response URL). */
  startedRunId(responseId: string): Promise<string> {
    return this.until(() => {
      for (const r of this.fake.responses(responseId)) {
        const m = /Started run `(run-[a-z0-9]+)`/.exec(String(r.body.text ?? ''));
        if (m?.[1]) return m[1];
      }
      return undefined;
    }, `the start of a run (${responseId})`);
  }

  /** Texts sent to one person through a response URL or as ephemeral messages. */
  privateTexts(userId: string, responseId?: string): string[] {
    const ephemerals = this.fake
      .ephemerals()
      .filter((e) => e.user === userId)
      .map((e) => e.text ?? '');
    const responses = responseId ? this.fake.responses(responseId).map((r) => String(r.body.text ?? '')) : [];
    return [...responses, ...ephemerals];
  }

  /** Every message body the bot sent to Slack (posts, updates, ephemerals, response URLs) is within limits. */
  expectEverythingWithinLimits(): void {
    const bodies = [
      ...this.fake.calls('chat.postMessage'),
      ...this.fake.calls('chat.update'),
      ...this.fake.calls('chat.postEphemeral'),
      ...this.fake.calls(RESPONSE_URL),
    ].map((c) => c.params);
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) {
      const message = {
        text: body.text === undefined ? '-' : body.text,
        ...(body.blocks ? { blocks: body.blocks } : {}),
      };
      expect(assertWithinLimits(message), JSON.stringify(message).slice(0, 300)).toEqual([]);
    }
    expect(this.fake.unexpectedCalls()).toEqual([]);
  }
}

/** The message whose blocks hold a button with this action id (and value, when given). */
export function withButton(messages: readonly StoredMessage[], actionId: string | RegExp): StoredMessage | undefined {
  return messages.find((m) =>
    (m.blocks ?? []).some((b) =>
      ((b as { elements?: Array<{ type?: string; action_id?: string }> }).elements ?? []).some(
        (e) =>
          e.type === 'button' &&
          (typeof actionId === 'string' ? e.action_id === actionId : actionId.test(e.action_id ?? '')),
      ),
    ),
  );
}

/** Buttons of a message: action id, label, value. */
export function buttons(message: StoredMessage): Array<{ actionId: string; text: string; value: string | undefined }> {
  const out: Array<{ actionId: string; text: string; value: string | undefined }> = [];
  for (const b of message.blocks ?? []) {
    for (const e of (b as { elements?: Array<Record<string, unknown>> }).elements ?? []) {
      if (e.type === 'button') {
        out.push({
          actionId: String(e.action_id),
          text: String((e.text as { text?: string })?.text ?? ''),
          value: e.value as string | undefined,
        });
      }
    }
  }
  return out;
}

/** All the text of a message (fallback and blocks), for assertions that read like a person. */
export function textOf(message: StoredMessage | undefined): string {
  if (!message) return '';
  return JSON.stringify({ text: message.text, blocks: message.blocks });
}
