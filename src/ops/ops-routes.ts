import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import type { BotMetrics } from './metrics.js';
import { checkReadiness, type ReadinessCheck } from './readiness.js';

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';
export const METRICS_PATH = '/metrics';

export interface OpsRoutesOptions {
  readonly metrics: BotMetrics;
  readonly readiness: readonly ReadinessCheck[];
  /** How long each part may take. @defaultValue 2000 */
  readonly readinessTimeoutMs?: number;
  /** Sets the gauges from their sources before each scrape. */
  readonly beforeScrape?: () => Promise<void>;
  readonly logger: Logger;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** One handler per path, for Bolt's `customRoutes` and for the separate metrics server alike. */
export function opsRoutes(options: OpsRoutesOptions): ReadonlyMap<string, RouteHandler> {
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const fail = (res: ServerResponse, err: unknown) => {
    options.logger.warn({ err }, 'operations endpoint failed');
    if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
  };
  return new Map<string, RouteHandler>([
    [HEALTH_PATH, (_req, res) => send(res, 200, 'application/json', '{"status":"ok"}\n')],
    [
      READY_PATH,
      (_req, res) => {
        checkReadiness(options.readiness, options.readinessTimeoutMs)
          .then((report) => {
            const failing = Object.entries(report.parts)
              .filter(([, r]) => r !== 'ok')
              .map(([name]) => name);
            const body = { status: report.ready ? 'ready' : 'not ready', failing, parts: report.parts };
            send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
          })
          .catch((err: unknown) => fail(res, err));
      },
    ],
    [
      METRICS_PATH,
      (_req, res) => {
        (async () => {
          await options.beforeScrape?.();
          send(res, 200, options.metrics.registry.contentType, await options.metrics.registry.metrics());
        })().catch((err: unknown) => fail(res, err));
      },
    ],
  ]);
}

/** The routes as Bolt's HTTP receiver takes them, beside `/slack/events` on `PORT`. */
export function boltCustomRoutes(routes: ReadonlyMap<string, RouteHandler>) {
  return [...routes].map(([path, handler]) => ({ path, method: 'GET', handler }));
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The routes on a port of their own (`METRICS_PORT`); every other path or method answers 404. */
export async function startOpsServer(
  routes: ReadonlyMap<string, RouteHandler>,
  port: number,
  logger: Logger,
): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = req.method === 'GET' ? routes.get(path) : undefined;
    if (handler) return handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  server.listen(port);
  await new Promise<void>((done, failed) => {
    server.once('listening', done);
    server.once('error', failed);
  });
  const bound = (server.address() as AddressInfo).port;
  logger.info({ port: bound }, 'health and metrics listening');
  return {
    port: bound,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
