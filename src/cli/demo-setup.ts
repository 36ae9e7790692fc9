import { stringify } from 'yaml';
import { HOST_ACTION_NAMES, parseRecoveryConfig } from '../config/recovery-config.js';
import { RecoveryConfigInvalidError } from '../errors.js';
import type { DemoDecisionGraph } from './demo-backend.js';

// What the demo sets up around a backend: the recovery config wiring its host actions, the read-only probe role
// and the environment the terminal front end reads. Pure, so tests can check the wiring.

/** The release the upgrade scenario rolls back to. */
export const DEMO_PREVIOUS_RELEASE = 'v1';

/** The environment variable the control token reaches the recovery config through, never the file itself. */
export const CONTROL_TOKEN_VARIABLE = 'DEMO_SIM_CONTROL_TOKEN';

/** Where the demo's recovery config says it came from, in its errors. */
const DEMO_CONFIG_SOURCE = "the demo backend's host actions";

/**
 * The `RECOVERY_CONFIG` YAML for the backend's host actions, validated as the bot validates any recovery config
 * (`env` resolves the control token reference) and refused unless every host action is wired: an action left out
 * would silently fall back to manual.
 *
 * @throws RecoveryConfigInvalidError listing the problems, never a value.
 */
export function demoRecoveryConfigYaml(
  hostActions: DemoDecisionGraph['hostActions'],
  env: Readonly<Record<string, string | undefined>>,
): string {
  const text = stringify({ actions: hostActions, release: { previous_known_good: DEMO_PREVIOUS_RELEASE } });
  const config = parseRecoveryConfig(text, DEMO_CONFIG_SOURCE, env);
  const manual = HOST_ACTION_NAMES.filter((name) => config.actions[name].type === 'manual');
  if (manual.length > 0) {
    throw new RecoveryConfigInvalidError(
      DEMO_CONFIG_SOURCE,
      manual.map((name) => `actions.${name}: not wired by the backend`),
    );
  }
  return text;
}

/** The SELECT-only role the demo's probes use, as a deployment's would be: random name, random password. */
export interface DemoProbeRole {
  readonly name: string;
  readonly password: string;
}

/**
 * The statements that make `role` a read-only reader of `database`, run in that database by the user that will
 * create the backend's tables: privileges by default on the tables still to come, so the grant also holds while
 * the scenario's fault keeps the database closed to connections.
 */
export function probeRoleGrants(role: DemoProbeRole, database: string): string {
  return [
    `GRANT CONNECT ON DATABASE "${database.replace(/"/g, '""')}" TO ${role.name}`,
    `GRANT USAGE ON SCHEMA public TO ${role.name}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role.name}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${role.name}`,
  ].join(';\n');
}

/** `serverUrl` with `database` and, when given, a user and password in place of its own. */
export function databaseUrlOf(serverUrl: string, database: string, as?: DemoProbeRole): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (as !== undefined) {
    url.username = as.name;
    url.password = as.password;
  }
  return url.toString();
}

/** The environment the front end reads, pointed at the backend, the demo's journal database and Redis. */
export function demoEnvironment(
  dg: Pick<
    DemoDecisionGraph,
    'baseUrl' | 'tenantId' | 'knownTraceId' | 'knownWorkflowId' | 'readerToken' | 'adminToken' | 'controlToken'
  >,
  paths: {
    readonly recoveryConfig: string;
    readonly journalDatabaseUrl: string;
    readonly redisUrl: string;
    /** The backend's database as the demo's read-only probe role. */
    readonly probeDatabaseUrl: string;
  },
  base: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    DG_BASE_URL: dg.baseUrl,
    DG_TENANT_ID: dg.tenantId,
    DG_API_TOKEN: dg.readerToken,
    DG_ADMIN_TOKEN: dg.adminToken,
    DG_DATABASE_URL: paths.probeDatabaseUrl,
    DG_KNOWN_TRACE_ID: dg.knownTraceId,
    DATABASE_URL: paths.journalDatabaseUrl,
    REDIS_URL: paths.redisUrl,
    RECOVERY_CONFIG: paths.recoveryConfig,
    [CONTROL_TOKEN_VARIABLE]: dg.controlToken,
  };
  if (dg.knownWorkflowId) env.DG_KNOWN_WORKFLOW_ID = dg.knownWorkflowId;
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'NO_COLOR', 'FORCE_COLOR', 'LOG_LEVEL']) {
    const value = base[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}
