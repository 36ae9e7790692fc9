import type { IncomingHttpHeaders } from 'node:http';
import type { SimContext } from '../runtime/context.js';
import type { Principal, RouteGroup } from './auth.js';

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  rawBody: string;
  headers: IncomingHttpHeaders;
  requestId: string;
  /** Set on authenticated routes. */
  principal: Principal;
}

/** An enveloped answer (`{"data":…,"request_id":…}`) or, for healthz, a raw object. */
export type Reply = { status: number; data: unknown } | { status: number; raw: unknown };

export interface Route {
  method: 'GET' | 'POST';
  /** Path with `:name` segments. */
  path: string;
  /** Role group; null for the open healthz. */
  group: RouteGroup | null;
  handler: (req: ApiRequest, ctx: SimContext) => Promise<Reply>;
}

export const SCOPE_OF_GROUP = { reader: 'read', writer: 'write', admin: 'admin' } as const;

export type RouteMatch = { route: Route; params: Record<string, string> } | null;

export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch {
  const segments = pathname.split('/').filter((s) => s !== '');
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.path.split('/').filter((s) => s !== '');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (const [i, part] of pattern.entries()) {
      const seg = segments[i] as string;
      if (part.startsWith(':')) {
        try {
          params[part.slice(1)] = decodeURIComponent(seg);
        } catch {
          ok = false;
        }
      } else if (part !== seg) ok = false;
      if (!ok) break;
    }
    if (ok) return { route, params };
  }
  return null;
}
