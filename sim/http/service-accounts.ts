import { ServiceAccountsInvalidError } from '../errors.js';

/** Permissions DecisionGraph checks inside its services (`API/admin.ex`, `API/workflows.ex`). */
export const PERMISSIONS = [
  'projection_replay',
  'projection_rebuild',
  'workflow_review',
  'workflow_escalate',
  'workflow_assign',
  'workflow_override',
  'workflow_export',
] as const;

export type Role = 'reader' | 'writer' | 'admin';

/** One entry of DecisionGraph's service-accounts JSON. */
export interface ServiceAccountConfig {
  account_id: string;
  roles: string[];
  tenant_ids: string[];
  permissions?: string[];
  /** Single token (older format). */
  token?: string;
  /** Accepted tokens (newer format, allows rotation overlap). */
  tokens?: string[];
}

/** DecisionGraph's service-accounts document (`DECISION_GRAPH_SERVICE_ACCOUNTS_JSON` / `_FILE`). */
export interface ServiceAccountsFile {
  service_accounts: ServiceAccountConfig[];
  operator_console_account_id?: string;
}

export const DEV_SERVICE_ACCOUNTS: ServiceAccountsFile = {
  service_accounts: [
    { account_id: 'dev-reader', roles: ['reader'], tenant_ids: ['*'], permissions: [], token: 'dev-reader-token' },
    {
      account_id: 'dev-writer',
      roles: ['writer'],
      tenant_ids: ['*'],
      permissions: ['workflow_assign', 'workflow_review'],
      token: 'dev-writer-token',
    },
    {
      account_id: 'dev-admin',
      roles: ['admin'],
      tenant_ids: ['*'],
      permissions: [...PERMISSIONS],
      token: 'dev-admin-token',
    },
  ],
};

export interface ServiceAccount {
  accountId: string;
  roles: readonly string[];
  tenantIds: readonly string[];
  permissions: readonly string[];
}

/** A broken accounts document stops start-up, as DecisionGraph's boot refuses one. */
function invalid(problem: string): ServiceAccountsInvalidError {
  return new ServiceAccountsInvalidError([problem]);
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw invalid(`${where} must be a list of non-empty strings`);
  }
  return value as string[];
}

/** Validates the JSON document the way DecisionGraph's boot would refuse a broken one. */
export function parseServiceAccounts(value: unknown): ServiceAccountsFile {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as ServiceAccountsFile).service_accounts)) {
    throw invalid('expected an object with a service_accounts list');
  }
  const doc = value as ServiceAccountsFile;
  const accounts = doc.service_accounts.map((raw, i) => {
    const where = `service_accounts[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw invalid(`${where} must be an object`);
    if (typeof raw.account_id !== 'string' || raw.account_id === '') {
      throw invalid(`${where}.account_id is required`);
    }
    const tokens = [
      ...(raw.token === undefined ? [] : [raw.token]),
      ...(raw.tokens === undefined ? [] : stringList(raw.tokens, `${where}.tokens`)),
    ];
    if (tokens.length === 0 || tokens.some((t) => typeof t !== 'string' || t === '')) {
      throw invalid(`${where} needs a token or tokens`);
    }
    const entry: ServiceAccountConfig = {
      account_id: raw.account_id,
      roles: stringList(raw.roles, `${where}.roles`),
      tenant_ids: stringList(raw.tenant_ids, `${where}.tenant_ids`),
      permissions: raw.permissions === undefined ? [] : stringList(raw.permissions, `${where}.permissions`),
    };
    if (raw.token !== undefined) entry.token = raw.token;
    if (raw.tokens !== undefined) entry.tokens = raw.tokens;
    return entry;
  });
  const out: ServiceAccountsFile = { service_accounts: accounts };
  if (typeof doc.operator_console_account_id === 'string') {
    out.operator_console_account_id = doc.operator_console_account_id;
  }
  return out;
}

/** Token lookup plus what healthz reports about the accounts. */
export class AccountRegistry {
  private readonly byToken = new Map<string, ServiceAccount>();
  readonly configuredAccounts: number;
  readonly operatorConsoleAccountId: string | null;

  constructor(
    doc: ServiceAccountsFile,
    readonly bootstrapSource: string,
  ) {
    for (const entry of doc.service_accounts) {
      const account: ServiceAccount = {
        accountId: entry.account_id,
        roles: entry.roles,
        tenantIds: entry.tenant_ids,
        permissions: entry.permissions ?? [],
      };
      for (const token of [...(entry.token ? [entry.token] : []), ...(entry.tokens ?? [])]) {
        this.byToken.set(token, account);
      }
    }
    this.configuredAccounts = doc.service_accounts.length;
    this.operatorConsoleAccountId =
      doc.operator_console_account_id ??
      doc.service_accounts.find((a) => a.roles.includes('admin'))?.account_id ??
      null;
  }

  lookup(token: string): ServiceAccount | undefined {
    return this.byToken.get(token);
  }
}

export function hasPermission(account: ServiceAccount, permission: string): boolean {
  return account.permissions.includes('*') || account.permissions.includes(permission);
}
