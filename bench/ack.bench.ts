import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { Agent, request } from 'undici';
import { SLACK_EVENTS_PATH } from '../src/bot/app.js';
import { type RunningBot, startBot } from '../src/bot/bot.js';
import { DECIDE_ACTION_PATTERN } from '../src/slack/action-values.js';
import type { StoredMessage } from '../test/helpers/fake-slack.js';
import {
  clickButtonPayload,
  formBody,
  interactionFields,
  slackSignature,
  slashCommandFields,
} from '../test/helpers/slack-requests.js';
import { APPROVER_ID, STARTER_ID } from './support/actors.js';
import { type RemoteFakeSlack, startFakeSlackProcess } from './support/fake-slack-process.js';
import { type BenchReport, formatTable, ms, type SummaryRow, times, verdict } from './support/report.js';
import { type Distribution, distribution, median, percentile } from './support/stats.js';
import { type BenchWorld, configOf, silentLogger, startBenchWorld } from './support/world.js';

/*
 * How fast Slack gets its acknowledgement from the bot, under a burst: `concurrency` signed requests at once
 * through the real Bolt HTTPReceiver of the bot as it is wired for production (listeners, run service, Redis,
 * journal, step workers, thread projector and outbox, all talking to a fake Slack and the simulator), next to a
 * bare Bolt app in the same process whose listeners only ack. The fake Slack runs in a process of its own, as
 * Slack is remote; the simulator shares this process but is idle during timed rounds.
 *
 * - `/dg recover restart` while a restart run is already under way: the bot acks ("starting…"), then the run
 *   service refuses the second run and the answer goes to the response URL.
 * - A click on the run's decision button (catch_up): the first untimed round decides; timed clicks are on the
 *   decided button, so after the ack the bot reads the run and tells the person the button is stale.
 * - Latency is client-side: request sent to response read, each request signed beforehand. Rounds alternate
 *   between the bot and the bare app (order swapped each round); after a bot round the bench waits until its
 *   after-ack work (Redis, Web API calls to the fake) has gone quiet, so a round does not inherit the last one's.
 */

export interface BenchAckOptions {
  /** Requests in flight at once. @defaultValue 50 */
  concurrency?: number;
  /** Timed rounds per kind and app. @defaultValue 12 */
  rounds?: number;
}

export interface AckKindFigures {
  readonly kind: 'command' | 'click';
  readonly bot: Distribution;
  readonly bare: Distribution;
  /** bot.p99 / bare.p99 */
  readonly ratioP99: number;
  /**
   * Median over rounds of (bot round p99 / the adjacent bare round's p99): rounds next to each other share the
   * machine's load, so this moves less with load spikes than the overall figure.
   */
  readonly medianRoundRatioP99: number;
  /** Responses that were not 200. */
  readonly errors: number;
}

export interface AckBenchDetail {
  readonly concurrency: number;
  readonly rounds: number;
  readonly kinds: AckKindFigures[];
}

const SIGNING_SECRET = 'bench-signing-secret';
const CHANNEL = 'C0BENCHINC';

interface Target {
  readonly name: 'bot' | 'bare';
  readonly url: string;
}

/** Sends `bodies` at once, each signed; returns each latency (ms) and how many were not 200. */
async function burst(agent: Agent, url: string, bodies: readonly string[]): Promise<{ ms: number[]; errors: number }> {
  const nowSec = Math.floor(Date.now() / 1000);
  const signed = bodies.map((body) => ({ body, signature: slackSignature(SIGNING_SECRET, nowSec, body) }));
  let errors = 0;
  const latencies = await Promise.all(
    signed.map(async ({ body, signature }) => {
      const t0 = performance.now();
      const res = await request(url, {
        method: 'POST',
        body,
        dispatcher: agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': String(nowSec),
          'x-slack-signature': signature,
        },
      });
      await res.body.text();
      if (res.statusCode !== 200) errors++;
      return performance.now() - t0;
    }),
  );
  return { ms: latencies, errors };
}

/** Resolves once the fake has seen no new call for `quietMs` (the bot's after-ack work is done). */
async function quiet(fake: RemoteFakeSlack, quietMs = 150, maxMs = 10_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let count = await fake.callCount();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const now = await fake.callCount();
    if (now !== count) {
      count = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
}

async function waitFor<T>(what: string, find: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function decisionMessage(messages: readonly StoredMessage[]): StoredMessage | undefined {
  return messages.find((m) =>
    (m.blocks ?? []).some((b) =>
      ((b as { elements?: unknown[] }).elements ?? []).some((e) => {
        const el = e as { action_id?: string; value?: string };
        return DECIDE_ACTION_PATTERN.test(el.action_id ?? '') && (el.value ?? '').includes('|catch_up_decision|');
      }),
    ),
  );
}

function catchUpActionId(message: StoredMessage): { actionId: string; value: string } {
  for (const b of message.blocks ?? []) {
    for (const e of (b as { elements?: unknown[] }).elements ?? []) {
      const el = e as { action_id?: string; value?: string };
      if (DECIDE_ACTION_PATTERN.test(el.action_id ?? '') && (el.value ?? '').includes('|catch_up_decision|catch_up|')) {
        return { actionId: el.action_id as string, value: el.value as string };
      }
    }
  }
  throw new Error('the decision message has no catch_up button');
}

/** A Bolt app on the same receiver settings whose listeners only acknowledge. */
async function startBareApp(fake: RemoteFakeSlack): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = new App({
    token: fake.token,
    receiver: new HTTPReceiver({
      signingSecret: SIGNING_SECRET,
      endpoints: SLACK_EVENTS_PATH,
      logLevel: LogLevel.ERROR,
      processBeforeResponse: false,
    }),
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.apiUrl },
  });
  app.command('/dg', async ({ ack }) => {
    await ack();
  });
  app.action(/.*/, async ({ ack }) => {
    await ack();
  });
  const server = (await app.start(0)) as Server;
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${SLACK_EVENTS_PATH}`,
    stop: async () => {
      await app.stop();
    },
  };
}

export async function benchAck(opts: BenchAckOptions = {}): Promise<BenchReport<AckBenchDetail>> {
  const concurrency = opts.concurrency ?? 50;
  const rounds = opts.rounds ?? 12;
  const fake = await startFakeSlackProcess();
  let world: BenchWorld | undefined;
  let bot: RunningBot | undefined;
  let bare: { url: string; stop: () => Promise<void> } | undefined;
  const agent = new Agent({ connections: concurrency * 2 });
  try {
    world = await startBenchWorld(
      'ack',
      { faults: ['node-down', 'projections-behind'], seed: { tracesPerTenant: 40 } },
      0.001,
    );
    const recipe = {
      ...world.recipe,
      env: {
        ...world.recipe.env,
        SLACK_BOT_TOKEN: fake.token,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: fake.apiUrl,
        PORT: '0',
      },
    };
    const { config, recovery } = configOf(recipe);
    bot = await startBot(config, recovery, {
      logger: silentLogger(),
      role: 'all',
      port: 0,
      prefix: recipe.prefix,
      runtime: {
        timeScale: recipe.timeScale,
        reconcileIntervalMs: 0,
        journalWriter: { backoffBaseMs: 50, backoffMaxMs: 500, sweepIntervalMs: 0 },
      },
    });
    if (bot.port === undefined) throw new Error('the bot did not open an HTTP port');
    bare = await startBareApp(fake);
    const targets: Target[] = [
      { name: 'bot', url: `http://127.0.0.1:${bot.port}${SLACK_EVENTS_PATH}` },
      { name: 'bare', url: bare.url },
    ];
    const botTarget = targets[0] as Target;

    // A run that waits for the catch_up decision, started the way a person starts it.
    const command = (responseUrl: string) =>
      formBody(slashCommandFields({ text: 'recover restart', responseUrl, userId: STARTER_ID, channelId: CHANNEL }));
    const first = await burst(agent, botTarget.url, [command((await fake.responseUrls(1))[0] as string)]);
    if (first.errors > 0) throw new Error('the bot refused the first /dg recover');
    const message = await waitFor('the catch_up decision in the thread', async () =>
      decisionMessage(await fake.allMessages()),
    ).catch(async (err: unknown) => {
      // Say where the run stands: a bench that cannot set up its button must explain itself.
      const runs = await bot?.runtime.service.listActive().catch(() => []);
      const texts = (await fake.allMessages()).map((m) => (m.text ?? '').slice(0, 80));
      throw new Error(
        `${(err as Error).message}; active runs ${JSON.stringify(runs)}; messages ${JSON.stringify(texts)}`,
      );
    });
    const button = catchUpActionId(message);

    const commandBodies = async () => (await fake.responseUrls(concurrency)).map(command);
    const clickBodies = async () =>
      (await fake.responseUrls(concurrency)).map((responseUrl, i) =>
        formBody(
          interactionFields(
            clickButtonPayload(message, button.actionId, {
              responseUrl,
              userId: i % 2 === 0 ? STARTER_ID : APPROVER_ID,
              value: button.value,
            }),
          ),
        ),
      );

    const kinds: AckKindFigures[] = [];
    for (const kind of ['command', 'click'] as const) {
      const bodies = kind === 'command' ? commandBodies : clickBodies;
      // Warm-up round on both (for clicks, the bot's first one also decides).
      for (const t of targets) {
        await burst(agent, t.url, await bodies());
        await quiet(fake);
      }
      if (kind === 'click') {
        // The decision let the run go on: timed rounds start once it has finished.
        const service = bot.runtime.service;
        await waitFor('the run to finish', async () => ((await service.listActive()).length === 0 ? true : undefined));
        await quiet(fake);
      }
      const samples: Record<Target['name'], number[]> = { bot: [], bare: [] };
      const roundRatios: number[] = [];
      let errors = 0;
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? targets : [...targets].reverse();
        const roundP99: Partial<Record<Target['name'], number>> = {};
        for (const t of order) {
          const b = await burst(agent, t.url, await bodies());
          samples[t.name].push(...b.ms);
          roundP99[t.name] = percentile(b.ms, 99);
          errors += b.errors;
          await quiet(fake);
        }
        roundRatios.push((roundP99.bot ?? 0) / (roundP99.bare ?? 1));
      }
      const botD = distribution(samples.bot);
      const bareD = distribution(samples.bare);
      kinds.push({
        kind,
        bot: botD,
        bare: bareD,
        ratioP99: botD.p99 / bareD.p99,
        medianRoundRatioP99: median(roundRatios),
        errors,
      });
    }
    const detail: AckBenchDetail = { concurrency, rounds, kinds };
    printAck(detail);
    const rows: SummaryRow[] = kinds.map((k) => ({
      bench: 'ack',
      metric: `${k.kind === 'command' ? '/dg recover' : 'button click'} ack p99 at ${concurrency} concurrent`,
      measured: `${ms(k.bot.p99)} (p50 ${ms(k.bot.p50)})`,
      baseline: `${ms(k.bare.p99)} (p50 ${ms(k.bare.p50)})`,
      ratio: times(k.ratioP99),
      target: "<= 1.5x bare app's p99",
      verdict: verdict(k.ratioP99 <= 1.5 && k.errors === 0),
    }));
    return { name: 'ack', rows, detail };
  } finally {
    await agent.close().catch(() => undefined);
    await bare?.stop().catch(() => undefined);
    await bot?.stop().catch(() => undefined);
    await world?.close();
    await fake.close();
  }
}

function printAck(d: AckBenchDetail): void {
  console.log(
    `Slack ack latency, ${d.concurrency} signed requests at once, ${d.rounds} rounds per app; bot = the production ` +
      'wiring (startBot, role all) on a fake Slack and the simulator; bare = a Bolt app whose listeners only ack',
  );
  const header = ['request', 'app', 'n', 'p50', 'p95', 'p99', 'max', 'non-200'];
  const rows: string[][] = [];
  for (const k of d.kinds) {
    rows.push([
      k.kind,
      'bot',
      String(k.bot.count),
      ms(k.bot.p50),
      ms(k.bot.p95),
      ms(k.bot.p99),
      ms(k.bot.max),
      String(k.errors),
    ]);
    rows.push([
      k.kind,
      'bare',
      String(k.bare.count),
      ms(k.bare.p50),
      ms(k.bare.p95),
      ms(k.bare.p99),
      ms(k.bare.max),
      '',
    ]);
  }
  console.log(formatTable(header, rows));
  for (const k of d.kinds) {
    console.log(
      `${k.kind}: bot p99 ${times(k.ratioP99)} the bare app's (target <= 1.5x); ` +
        `median of per-round ratios ${times(k.medianRoundRatioP99)}`,
    );
  }
}
