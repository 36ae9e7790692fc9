import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from '../runtime/context.js';
import { ApiError, FrameworkError } from './api-error.js';
import { authenticate, type Principal } from './auth.js';
import { errorEnvelope, frameworkBody, resolveRequestId, sendJson, successEnvelope } from './envelope.js';
import { matchRoute, type Route, SCOPE_OF_GROUP } from './router.js';

const MAX_BODY_BYTES = 8 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new FrameworkError(413, 'Request Entity Too Large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (raw.trim() === '') return {};
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new FrameworkError(400, 'Bad Request');
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return {};
}

/** Phoenix's `accepts ["json"]`: no Accept header, JSON, or a wildcard. */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const type = part.split(';')[0]?.trim().toLowerCase() ?? '';
    return type === '*/*' || type === 'application/*' || type.endsWith('/json') || type.endsWith('+json');
  });
}

/**
 * The API request pipeline in DecisionGraph's order: request id, body parsing, route match, accepts, auth
 * (tenant header first), rate limit, then the handler. Enveloped answers for `/api/v1`, raw for healthz,
 * framework shapes for unknown routes and crashes.
 */
export function createApiHandler(routes: readonly Route[], getContext: () => SimContext) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = resolveRequestId(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    const head = req.method === 'HEAD';
    const ctx = getContext();
    let enveloped = false;
    try {
      const latency = ctx.host.latencyMs + (ctx.host.faults.has('slow') ? ctx.host.slowLatencyMs : 0);
      const raw = await readBody(req);
      if (latency > 0) await ctx.clock.sleep(latency);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = parseBody(raw, req.headers['content-type']);
      const match = matchRoute(routes, head ? 'GET' : (req.method ?? 'GET'), url.pathname);
      if (!match) throw new FrameworkError(404, 'Not Found');
      if (!acceptsJson(req.headers.accept)) throw new FrameworkError(406, 'Not Acceptable');
      const { route, params } = match;
      enveloped = route.group !== null;
      let principal: Principal | null = null;
      if (route.group !== null) {
        principal = authenticate(req.headers, ctx.registry, route.group);
        ctx.node.rateLimiter.hit(SCOPE_OF_GROUP[route.group], principal.account.accountId, principal.tenantId);
      }
      const reply = await route.handler(
        {
          params,
          query: url.searchParams,
          body,
          rawBody: raw,
          headers: req.headers,
          requestId,
          principal: principal as Principal,
        },
        ctx,
      );
      if (route.path === '/api/v1/admin/replays' && reply.status === 202 && ctx.host.faults.has('replay-answer-lost')) {
        // The replay is admitted and its row written; the answer is cut off on the way back.
        req.socket.destroy();
        return;
      }
      if ('raw' in reply) sendJson(res, reply.status, reply.raw, head);
      else sendJson(res, reply.status, successEnvelope(reply.data, requestId), head);
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof ApiError) {
        sendJson(res, err.status, errorEnvelope(err, requestId), head);
      } else if (err instanceof FrameworkError) {
        sendJson(res, err.status, frameworkBody(err), head);
      } else if (enveloped) {
        // DecisionGraph's API modules rescue exceptions into internal_error with the exception text.
        const message = err instanceof Error ? err.message : String(err);
        sendJson(res, 500, errorEnvelope(new ApiError('internal_error', message), requestId), head);
      } else {
        sendJson(res, 500, frameworkBody(new FrameworkError(500, 'Internal Server Error')), head);
      }
    }
  };
}
