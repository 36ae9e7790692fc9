/**
 * The host actions of DecisionGraph's disaster-recovery runbook that no API offers, by the names a recovery tool's
 * configuration gives them; the simulator serves each on its control API.
 */
export const RUNBOOK_HOST_ACTIONS = [
  'restart_runtime',
  'stop_runtime',
  'start_runtime',
  'restore_postgres',
  'stop_writes',
  'preserve_database',
  'list_backups',
  'restore_backup',
  'switch_release',
] as const;

export type RunbookHostAction = (typeof RUNBOOK_HOST_ACTIONS)[number];

interface Endpoint {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: Readonly<Record<string, string>>;
}

/** The control-API endpoint that performs each host action of the runbook on the simulator. */
export const SIM_HOST_ENDPOINTS: { readonly [K in RunbookHostAction]: Endpoint } = {
  restart_runtime: { method: 'POST', path: '/host/restart' },
  stop_runtime: { method: 'POST', path: '/host/stop' },
  start_runtime: { method: 'POST', path: '/host/start' },
  restore_postgres: { method: 'POST', path: '/host/restore-postgres' },
  stop_writes: { method: 'POST', path: '/host/stop-writes' },
  preserve_database: { method: 'POST', path: '/host/preserve-database', body: { label: 'broken before {run_id}' } },
  list_backups: { method: 'GET', path: '/host/backups' },
  restore_backup: { method: 'POST', path: '/host/restore-backup', body: { artifact: '{artifact}' } },
  switch_release: { method: 'POST', path: '/host/switch-release', body: { release: '{release}' } },
};

export interface SimHostActionsOptions {
  /** Environment variable the recovery config reads the control token from. @defaultValue `SIM_CONTROL_TOKEN` */
  readonly tokenVariable?: string;
  /** @defaultValue 30 */
  readonly timeoutSeconds?: number;
  /** Per-path overrides, e.g. to route one action through a test proxy. @defaultValue none */
  readonly paths?: Partial<Record<string, string>>;
}

/**
 * The `actions:` section of a `RECOVERY_CONFIG` that wires every host action as an `http` call to the simulator's
 * control API, the token referenced from the environment as a deployment would keep it out of the file.
 */
export function simHostActions(controlUrl: string, options: SimHostActionsOptions = {}): Record<string, unknown> {
  const token = options.tokenVariable ?? 'SIM_CONTROL_TOKEN';
  return Object.fromEntries(
    Object.entries(SIM_HOST_ENDPOINTS).map(([name, e]) => [
      name,
      {
        type: 'http',
        method: e.method,
        url: `${controlUrl}${options.paths?.[e.path] ?? e.path}`,
        headers: { authorization: `Bearer \${env:${token}}` },
        ...(e.body ? { body: e.body } : {}),
        timeout_s: options.timeoutSeconds ?? 30,
      },
    ]),
  );
}
