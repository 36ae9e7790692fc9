import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from './api-error.js';
import { type AccountRegistry, hasPermission, type ServiceAccount } from './service-accounts.js';

/** Route groups of DecisionGraph's router and the roles each accepts. */
export type RouteGroup = 'reader' | 'writer' | 'admin';

const ROLES_FOR_GROUP: Record<RouteGroup, readonly string[]> = {
  reader: ['reader', 'writer', 'admin'],
  writer: ['writer', 'admin'],
  admin: ['admin'],
};

export interface Principal {
  account: ServiceAccount;
  tenantId: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** DecisionGraph's check order; the first failing step decides the answer. */
export function authenticate(headers: IncomingHttpHeaders, registry: AccountRegistry, group: RouteGroup): Principal {
  const tenantId = header(headers, 'x-tenant-id')?.trim();
  if (!tenantId) throw new ApiError('invalid_argument', 'x-tenant-id header is required');
  const authorization = header(headers, 'authorization');
  if (authorization === undefined) throw new ApiError('unauthorized', 'Authentication required');
  const space = authorization.indexOf(' ');
  const scheme = space < 0 ? authorization : authorization.slice(0, space);
  const token = space < 0 ? '' : authorization.slice(space + 1).trim();
  if (scheme !== 'Bearer' || token === '') {
    throw new ApiError('unauthorized', 'Authorization header must use Bearer token format');
  }
  const account = registry.lookup(token);
  if (!account) throw new ApiError('unauthorized', 'Unknown service account token');
  if (!account.tenantIds.includes('*') && !account.tenantIds.includes(tenantId)) {
    throw new ApiError('forbidden', `Service account cannot access tenant ${tenantId}`);
  }
  if (!account.roles.some((role) => ROLES_FOR_GROUP[group].includes(role))) {
    throw new ApiError('forbidden', 'Service account lacks required role');
  }
  return { account, tenantId };
}

export function requirePermission(account: ServiceAccount, permission: string): void {
  if (!hasPermission(account, permission)) {
    throw new ApiError('forbidden', `Service account lacks ${permission} permission`);
  }
}
