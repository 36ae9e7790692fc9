import { stringify } from 'yaml';
import { type FaultName, readerRoleGrants, type SimulatorHandle, simHostActions } from '../../sim/index.js';
import type { ScenarioName } from '../runbook/index.js';

// What the demo sets up around a scenario: the simulator's fault, the host actions pointed at the simulator's
// control API, and the environment the terminal front end reads. Pure, so tests can check the wiring.

export interface DemoPlan {
  /** Faults switched on before the simulator listens. */
  readonly faults: readonly FaultName[];
  /** The deployment allows rebuilds (the scenario may recommend one). */
  readonly allowRebuild: boolean;
  /** One sentence for the demo's header. */
  readonly story: string;
}

export const DEMO_PLANS: Readonly<Record<ScenarioName, DemoPlan>> = {
  restart: {
    faults: ['node-down'],
    allowRebuild: false,
    story: 'the DecisionGraph node is down (its API refuses connections) while Postgres is healthy',
  },
  postgres: {
    faults: ['postgres-down'],
    allowRebuild: false,
    story: "DecisionGraph's Postgres refuses connections; healthz still answers 200 with projection health unavailable",
  },
  projections: {
    faults: ['projections-behind', 'orphaned-run'],
    allowRebuild: false,
    story:
      'projections are behind with no worker running, and a replay run cut off by a restart is still marked running',
  },
  'event-log': {
    faults: ['hash-drift'],
    allowRebuild: true,
    story: "one event's payload was rewritten under its old hash: the event log is damaged",
  },
  upgrade: {
    faults: ['failed-upgrade'],
    allowRebuild: true,
    story: 'release v2-broken was deployed: trace reads fail and trace_summary is fully behind',
  },
};

/** The release the upgrade scenario rolls back to. */
export const DEMO_PREVIOUS_RELEASE = 'v1';

/** The environment variable the control token reaches the recovery config through, never the file itself. */
export const CONTROL_TOKEN_VARIABLE = 'DEMO_SIM_CONTROL_TOKEN';

/**
 * Runbook steps the scenarios leave to a person (not host actions), and the control call that does the same on the
 * simulator, so `--auto` can finish the demo: writers come back after the event-log restore.
 */
export const DEMO_MANUAL_STEPS: Readonly<Record<string, { readonly path: string; readonly note: string }>> = {
  resume_writes: {
    path: '/host/resume-writes',
    note: "demo: writes resumed through the simulator's control API",
  },
};

/** The `RECOVERY_CONFIG` YAML: every host action an `http` call to the control API, the token from the environment. */
export function demoRecoveryConfigYaml(controlUrl: string): string {
  const actions = simHostActions(controlUrl, { tokenVariable: CONTROL_TOKEN_VARIABLE });
  return stringify({ actions, release: { previous_known_good: DEMO_PREVIOUS_RELEASE } });
}

/** The SELECT-only role the demo's probes use, as a deployment's would be: random name, random password. */
export interface DemoProbeRole {
  readonly name: string;
  readonly password: string;
}

/**
 * The statements that make `role` a read-only reader of `database`, run in that database by the user that will
 * create the simulator's tables: privileges by default on the tables still to come, so the grant also holds while
 * the scenario's fault keeps the database closed to connections.
 */
export function probeRoleGrants(role: DemoProbeRole, database: string): string {
  return readerRoleGrants(role.name, database).join(';\n');
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

/** The environment the front end reads, pointed at the simulator, the demo's journal database and Redis. */
export function demoEnvironment(
  sim: Pick<SimulatorHandle, 'url' | 'known' | 'controlToken'>,
  paths: {
    readonly recoveryConfig: string;
    readonly journalDatabaseUrl: string;
    readonly redisUrl: string;
    /** The simulator's database as the demo's read-only probe role. */
    readonly probeDatabaseUrl: string;
  },
  base: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    DG_BASE_URL: sim.url,
    DG_TENANT_ID: sim.known.tenantId,
    // DecisionGraph's dev service accounts: a reader for reads, the admin for replays.
    DG_API_TOKEN: 'dev-reader-token',
    DG_ADMIN_TOKEN: 'dev-admin-token',
    DG_DATABASE_URL: paths.probeDatabaseUrl,
    DG_KNOWN_TRACE_ID: sim.known.traceId,
    DATABASE_URL: paths.journalDatabaseUrl,
    REDIS_URL: paths.redisUrl,
    RECOVERY_CONFIG: paths.recoveryConfig,
    [CONTROL_TOKEN_VARIABLE]: sim.controlToken,
  };
  if (sim.known.workflowId) env.DG_KNOWN_WORKFLOW_ID = sim.known.workflowId;
  for (const key of ['PATH', 'HOME', 'LANG', 'TZ', 'NO_COLOR', 'FORCE_COLOR', 'LOG_LEVEL']) {
    const value = base[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}
