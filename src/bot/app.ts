import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type Logger as BoltLogger, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { HandlerDeps } from '../handlers/handler-deps.js';
import { registerListeners } from '../handlers/index.js';
import { type Logger, scrubSecrets } from '../logger.js';
import { gateSlackRequests, MAX_SLACK_BODY_BYTES } from './request-gate.js';
import type { SeenRequests } from './seen-requests.js';

/** Where Slack sends slash commands and interactivity (the manifest's request URLs end with it). */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackCredentials {
  /** `xoxb-…` */
  readonly botToken: string;
  readonly signingSecret: string;
  /** `xapp-…`: Socket Mode instead of the HTTP receiver. @defaultValue undefined (HTTP) */
  readonly appToken?: string;
  /** Web API base URL, for a local fake. @defaultValue Slack's own */
  readonly apiUrl?: string;
}

export interface BotAppOptions {
  readonly slack: SlackCredentials;
  readonly deps: HandlerDeps;
  readonly logger: Logger;
  /**
   * Web API calls made while answering a person (ephemeral answers, dialogs) give up after this long: they sit in
   * Slack's 3 s window or right after it. @defaultValue 5000
   */
  readonly webApiTimeoutMs?: number;
  /**
   * Signed requests already received, so a resent one is applied once (HTTP receiver only).
   * @defaultValue repeats are not recognised
   */
  readonly seenRequests?: SeenRequests;
  /** GET routes served beside `/slack/events` (health, metrics); HTTP receiver only. @defaultValue none */
  readonly customRoutes?: readonly { path: string; method: string; handler: RouteHandler }[];
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface BotApp {
  readonly app: App;
  readonly mode: 'http' | 'socket';
  /** Starts receiving; for HTTP, listens on `port` (0 picks a free one) and returns the port it got. */
  start(port: number): Promise<{ port: number | undefined }>;
  stop(): Promise<void>;
}

/**
 * Bolt's log lines as pino lines. Only text is kept: Bolt's debug output can carry whole request bodies, which
 * must never reach the log, so objects are dropped and debug is off.
 */
function boltLogger(logger: Logger): BoltLogger {
  const line = (parts: unknown[]) =>
    scrubSecrets(
      parts
        .filter((p) => typeof p === 'string' || p instanceof Error)
        .map((p) => (p instanceof Error ? `${p.name}: ${p.message}` : (p as string)))
        .join(' ')
        .slice(0, 1000),
    );
  return {
    debug: () => undefined,
    info: (...m: unknown[]) => logger.info(line(m)),
    warn: (...m: unknown[]) => logger.warn(line(m)),
    error: (...m: unknown[]) => logger.error(line(m)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

/**
 * The Bolt app with every listener: the HTTP receiver on `/slack/events` (body size, signatures, the 5-minute
 * window, payload shape and repeats checked before any listener runs), or Socket Mode when an app token is given.
 * Listeners are the same in both modes.
 */
export function createBotApp(options: BotAppOptions): BotApp {
  const logger = options.logger.child({ component: 'slack' });
  const log = boltLogger(logger);
  const clientOptions = {
    ...(options.slack.apiUrl ? { slackApiUrl: options.slack.apiUrl } : {}),
    // A person is waiting: one quick retry at most, and a 429 answered now rather than after a long pause.
    retryConfig: { retries: 1, minTimeout: 100, maxTimeout: 500 },
    rejectRateLimitedCalls: true,
    timeout: options.webApiTimeoutMs ?? 5000,
  };
  const socket = options.slack.appToken !== undefined;
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (socket) {
    app = new App({
      token: options.slack.botToken,
      signingSecret: options.slack.signingSecret,
      appToken: options.slack.appToken,
      socketMode: true,
      logger: log,
      clientOptions,
    });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: options.slack.signingSecret,
      endpoints: SLACK_EVENTS_PATH,
      logger: log,
      // The server lives on: listeners ack first and go on after the response has left.
      processBeforeResponse: false,
      bodyLimit: MAX_SLACK_BODY_BYTES,
      ...(options.customRoutes ? { customRoutes: [...options.customRoutes] } : {}),
    });
    // Size, signature, shape and repeats are checked before Bolt sees the request (see request-gate.ts).
    receiver.requestListener = gateSlackRequests(receiver.requestListener, {
      signingSecret: options.slack.signingSecret,
      path: SLACK_EVENTS_PATH,
      logger,
      ...(options.seenRequests ? { seen: options.seenRequests } : {}),
    });
    app = new App({ token: options.slack.botToken, receiver, logger: log, clientOptions });
  }
  app.error(async (error) => {
    logger.error({ err: error, code: (error as { code?: string }).code }, 'listener failed');
  });
  registerListeners(app, options.deps);
  return {
    app,
    mode: socket ? 'socket' : 'http',
    async start(port) {
      if (socket) {
        await app.start();
        logger.info('connected to Slack in Socket Mode');
        return { port: undefined };
      }
      const server = (await app.start(port)) as Server;
      const address = server.address() as AddressInfo | null;
      logger.info({ port: address?.port, path: SLACK_EVENTS_PATH }, 'Slack receiver listening');
      return { port: address?.port };
    },
    async stop() {
      await app.stop();
    },
  };
}
