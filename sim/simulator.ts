import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { ROUTES } from './api/routes.js';
import { BackupStore } from './control/backups.js';
import {
  createOwnDatabase,
  createPool,
  DEFAULT_ADMIN_URL,
  databaseName,
  dropDatabase,
  withDatabase,
} from './db/database.js';
import { applySchema, seedHistory } from './db/seed.js';
import type { FaultHost } from './faults/fault-host.js';
import { FAULTS } from './faults/registry.js';
import { createApiHandler } from './http/server.js';
import { AccountRegistry, DEV_SERVICE_ACCOUNTS } from './http/service-accounts.js';
import { catchUp } from './projector/catch-up.js';
import { PROJECTIONS } from './projector/names.js';
import { BROKEN_RELEASE, GOOD_RELEASE, type HostState, type SimContext } from './runtime/context.js';
import { NodeProcess } from './runtime/node-process.js';
import {
  DEFAULT_FAULT_TENANT,
  type FaultName,
  type FaultOptions,
  type HostActionRequest,
  isHostAnswerFault,
  isTenantFault,
  type RateLimits,
  SIM_HOST_ACTIONS,
  type SimulatorOptions,
  TENANT_FAULTS,
} from './types.js';
import { REAL_CLOCK, type SimClock } from './util/clock.js';
import { ImposedWaits } from './util/imposed-waits.js';
import { rfc3339 } from './util/time.js';
import { refreshWorkflows } from './workflows/refresh.js';

export type NodeState = 'up' | 'down' | 'booting';

/** A switched-on fault: where (null for a node-wide fault) and what its switch needs to undo it. */
interface ActiveFault {
  fault: FaultName;
  tenantId: string | null;
  /** Host-answer faults: the host action they act on (`*`: every one). */
  action?: string;
  injected: unknown;
}

/** The host action a host-answer fault acts on; other faults refuse one. */
function faultAction(fault: FaultName, opts: FaultOptions): string | undefined {
  if (!isHostAnswerFault(fault)) {
    if (opts.action !== undefined) throw new RangeError(`fault ${fault} takes no host action`);
    return undefined;
  }
  const action = opts.action ?? '*';
  if (action !== '*' && !(SIM_HOST_ACTIONS as readonly string[]).includes(action)) {
    throw new RangeError(`host action must be one of ${SIM_HOST_ACTIONS.join(', ')}`);
  }
  return action;
}

function checkTenant(opts: FaultOptions): void {
  if (opts.tenantId !== undefined && opts.tenantId.trim() === '') throw new RangeError('tenant must not be blank');
}

function faultKey(fault: FaultName, tenantId: string | null): string {
  return tenantId === null ? fault : `${fault}\u0000${tenantId}`;
}

const DEFAULT_RATE_LIMITS: RateLimits = { read: 600, write: 300, admin: 60 };
/** Batch size of the one-off projection at start-up (history, not observable through the API). */
const BOOT_BATCH_SIZE = 5000;

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * One simulated DecisionGraph deployment: its database, the node process (API listener plus in-memory state)
 * that can be stopped and restarted, and the host around it (release, write switch, backups, faults).
 */
export class Simulator implements FaultHost {
  readonly tenantId = 'default';
  readonly databaseName: string;
  readonly host: HostState;
  readonly backups: BackupStore;
  readonly clock: SimClock;
  initialBackupId = '';
  known: { traceId: string; workflowId: string | null; tenantId: string } = {
    traceId: '',
    workflowId: null,
    tenantId: 'default',
  };
  nodeState: NodeState = 'down';
  private readonly ctx: SimContext;
  private readonly api: http.Server;
  private apiPort: number;
  private readonly active = new Map<string, ActiveFault>();
  private readonly counts = new Map<string, number>();
  private readonly requests: HostActionRequest[] = [];
  private jobSeq = randomInt(1000, 5000);
  private transitions: Promise<unknown> = Promise.resolve();
  readonly imposed = new ImposedWaits();

  private constructor(
    readonly opts: SimulatorOptions,
    readonly pool: pg.Pool,
    readonly databaseUrl: string,
    readonly adminUrl: string,
    readonly ownsDatabase: boolean,
  ) {
    this.databaseName = databaseName(databaseUrl);
    this.clock = opts.clock ?? REAL_CLOCK;
    this.apiPort = opts.port ?? 0;
    this.host = {
      release: GOOD_RELEASE,
      releaseInstalledAt: null,
      writesStopped: false,
      allowRebuild: opts.allowRebuild ?? false,
      latencyMs: opts.latencyMs ?? 0,
      slowLatencyMs: opts.slowLatencyMs ?? 1500,
      faults: new Set(),
      lostAnswers: new Map(),
    };
    this.backups = new BackupStore(pool, this.databaseName, this.clock);
    const accounts = opts.serviceAccounts ?? DEV_SERVICE_ACCOUNTS;
    this.ctx = {
      pool,
      registry: new AccountRegistry(accounts, opts.serviceAccountsSource ?? 'application_env'),
      store: { database: this.databaseName, hostname: new URL(databaseUrl).hostname || 'localhost' },
      deploymentEnv: opts.deploymentEnv ?? 'prod',
      host: this.host,
      node: this.newNode(),
      clock: this.clock,
    };
    this.api = http.createServer(createApiHandler(ROUTES, () => this.ctx));
    this.api.keepAliveTimeout = 5000;
  }

  static async start(opts: SimulatorOptions = {}): Promise<Simulator> {
    const adminUrl =
      opts.adminDatabaseUrl ?? (opts.databaseUrl ? withDatabase(opts.databaseUrl, 'postgres') : DEFAULT_ADMIN_URL);
    const ownsDatabase = opts.databaseUrl === undefined;
    const databaseUrl = opts.databaseUrl ?? (await createOwnDatabase(adminUrl));
    const pool = createPool(databaseUrl);
    const sim = new Simulator(opts, pool, databaseUrl, adminUrl, ownsDatabase);
    try {
      await sim.reservePort();
      await sim.prepareHistory();
      for (const fault of opts.faultsInBackups ?? []) await sim.inject(fault);
      sim.initialBackupId = (await sim.backups.create('scheduled')).id;
      for (const fault of opts.faults ?? []) await sim.inject(fault);
      if (!sim.host.faults.has('node-down')) await sim.startNode();
      return sim;
    } catch (err) {
      await sim.close().catch(() => undefined);
      throw err;
    }
  }

  /** Picks the API port up front, so the URL is known (and stays the same) even when the node starts down. */
  private async reservePort(): Promise<void> {
    if (this.apiPort !== 0) return;
    this.apiPort = await listen(this.api, 0, this.opts.host ?? '127.0.0.1');
    await closeServer(this.api);
  }

  get url(): string {
    return `http://${this.opts.host ?? '127.0.0.1'}:${this.apiPort}`;
  }

  node(): NodeProcess {
    return this.ctx.node;
  }

  private newNode(): NodeProcess {
    return new NodeProcess({
      pool: this.pool,
      rateLimits: { ...DEFAULT_RATE_LIMITS, ...this.opts.rateLimits },
      nextJobId: () => `replay-${++this.jobSeq}`,
      readOnly: () => this.host.writesStopped,
      replayBatchDelayMs: this.opts.replayBatchDelayMs ?? 0,
      replayDurationMs: this.opts.replayDurationMs ?? 0,
      clock: this.clock,
      pollIntervalMs: this.opts.pollIntervalMs ?? 1000,
      onReplayEnded: (startedAt, endedAt) => this.imposed.record('replay', startedAt, endedAt),
    });
  }

  /** Schema, seed (into an empty log), projections brought current, workflow tables. */
  private async prepareHistory(): Promise<void> {
    await applySchema(this.pool);
    const empty = await this.pool.query('SELECT 1 FROM dg_event_log LIMIT 1');
    let knownWorkflowTrace: string | null = null;
    if (empty.rowCount === 0 && this.opts.seed !== false) {
      const seeded = await seedHistory(this.pool, this.opts.seed ?? {});
      this.known.traceId = seeded.knownTraceId;
      this.known.tenantId = seeded.tenants[0] ?? 'default';
      knownWorkflowTrace = seeded.knownWorkflowTraceId;
    } else {
      const finished = await this.pool.query<{ trace_id: string }>(
        `SELECT trace_id FROM dg_event_log WHERE tenant_id = $1 AND event_type = 'TraceFinished'
          ORDER BY log_seq LIMIT 1`,
        [this.tenantId],
      );
      this.known.traceId = finished.rows[0]?.trace_id ?? '';
    }
    const tenants = await this.pool.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM dg_event_log');
    for (const { tenant_id } of tenants.rows) {
      for (const projection of PROJECTIONS) {
        await catchUp(this.pool, {
          clock: this.clock,
          tenantId: tenant_id,
          projection,
          batchSize: BOOT_BATCH_SIZE,
          digestsEachBatch: false,
        });
      }
      await refreshWorkflows(this.pool, this.clock, tenant_id, false);
    }
    const wf = await this.pool.query<{ workflow_id: string }>(
      `SELECT workflow_id FROM dg_workflow_items WHERE tenant_id = $1 AND ($2::text IS NULL OR trace_id = $2)
        ORDER BY requested_at LIMIT 1`,
      [this.known.tenantId, knownWorkflowTrace],
    );
    this.known.workflowId = wf.rows[0]?.workflow_id ?? null;
  }

  /** Node transitions never interleave (a restart's stop and start stay together). */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.transitions.then(fn, fn);
    this.transitions = next.catch(() => undefined);
    return next;
  }

  private async doStop(): Promise<void> {
    this.ctx.node.kill();
    this.nodeState = 'down';
    await closeServer(this.api);
  }

  private async doStart(): Promise<void> {
    if (this.nodeState === 'up') return;
    this.ctx.node.kill();
    this.ctx.node = this.newNode();
    // A fresh process: no write block survives it.
    this.host.writesStopped = false;
    this.nodeState = 'booting';
    const bootStarted = this.clock.now();
    await this.clock.sleep(this.opts.bootDelayMs ?? 0);
    this.apiPort = await listen(this.api, this.apiPort, this.opts.host ?? '127.0.0.1');
    this.nodeState = 'up';
    this.imposed.record('boot', bootStarted, this.clock.now());
    this.host.faults.delete('node-down');
    this.active.delete(faultKey('node-down', null));
  }

  stopNode(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  startNode(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  /** Stop, then boot again (taking `bootDelayMs`); resolves once the node is down and the boot is under way. */
  restartNode(): { down: Promise<void>; up: Promise<void> } {
    const down = this.stopNode();
    const up = this.startNode();
    return { down, up };
  }

  /**
   * Switches `fault` on; a tenant fault in `opts.tenantId` (default `default`). Node-wide faults refuse a tenant.
   * A fault already on (in that tenant) stays as it is.
   */
  async inject(fault: FaultName, opts: FaultOptions = {}): Promise<void> {
    const tenantId = this.faultTenant(fault, opts);
    const action = faultAction(fault, opts);
    const key = faultKey(fault, tenantId ?? action ?? null);
    if (this.active.has(key)) return;
    const injected = await FAULTS[fault].inject(this, tenantId ?? action ?? DEFAULT_FAULT_TENANT);
    this.active.set(key, { fault, tenantId, ...(action !== undefined ? { action } : {}), injected });
    this.host.faults.add(fault);
  }

  /**
   * Switches faults off, newest first: `fault` (or every fault) in `opts.tenantId`, or wherever it is on when no
   * tenant is named.
   */
  async clear(fault?: FaultName, opts: FaultOptions = {}): Promise<void> {
    if (fault !== undefined) {
      this.faultTenant(fault, opts);
      faultAction(fault, opts);
    } else checkTenant(opts);
    const targets = [...this.active.entries()]
      .filter(([, a]) => fault === undefined || a.fault === fault)
      .filter(([, a]) => opts.tenantId === undefined || a.tenantId === opts.tenantId)
      .filter(([, a]) => opts.action === undefined || a.action === opts.action)
      .reverse();
    for (const [key, a] of targets) {
      await FAULTS[a.fault].clear(this, a.injected, a.tenantId ?? DEFAULT_FAULT_TENANT);
      this.active.delete(key);
      this.syncFaultFlag(a.fault);
    }
  }

  /**
   * Where each active fault is on: tenant faults list their tenants, host-answer faults their host actions (`*`:
   * every one), other node-wide faults an empty list.
   */
  activeFaults(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const a of this.active.values()) {
      const tenants = out[a.fault] ?? [];
      if (a.tenantId !== null) tenants.push(a.tenantId);
      else if (a.action !== undefined) tenants.push(a.action);
      out[a.fault] = tenants;
    }
    return out;
  }

  private faultTenant(fault: FaultName, opts: FaultOptions): string | null {
    checkTenant(opts);
    if (isTenantFault(fault)) return opts.tenantId ?? DEFAULT_FAULT_TENANT;
    if (opts.tenantId !== undefined) {
      throw new RangeError(`fault ${fault} acts on the whole node and takes no tenant`);
    }
    return null;
  }

  /** `host.faults` holds a fault while it is on in at least one place. */
  private syncFaultFlag(fault: FaultName): void {
    for (const a of this.active.values()) if (a.fault === fault) return;
    this.host.faults.delete(fault);
  }

  /** After a full restore the database holds the backup's state: faults that lived in the database are gone. */
  forgetRestoredFaults(): void {
    for (const [key, a] of this.active) {
      if (isTenantFault(a.fault)) this.active.delete(key);
    }
    for (const fault of TENANT_FAULTS) this.host.faults.delete(fault);
  }

  /** Installs a release; the broken one is the failed-upgrade fault, the good one ends it. */
  switchRelease(release: string): void {
    this.host.release = release;
    this.host.releaseInstalledAt = rfc3339(this.clock.now());
    if (release === BROKEN_RELEASE) {
      this.host.faults.add('failed-upgrade');
      const key = faultKey('failed-upgrade', null);
      // Switched on by hand: clearing it just installs the good release again (no backup to remember).
      if (!this.active.has(key)) this.active.set(key, { fault: 'failed-upgrade', tenantId: null, injected: null });
    } else {
      for (const fault of ['failed-upgrade', 'failed-upgrade-unlabelled'] as const) {
        this.host.faults.delete(fault);
        this.active.delete(faultKey(fault, null));
      }
    }
  }

  countHostAction(action: string): void {
    this.counts.set(action, (this.counts.get(action) ?? 0) + 1);
  }

  hostActionCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  recordHostRequest(request: HostActionRequest): void {
    this.requests.push(request);
  }

  hostActionRequests(): HostActionRequest[] {
    return [...this.requests];
  }

  async close(): Promise<void> {
    await this.serialize(() => this.doStop()).catch(() => undefined);
    if (this.host.faults.has('postgres-down')) await this.clear('postgres-down').catch(() => undefined);
    if (!this.ownsDatabase) await this.backups.dropAll().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
    if (this.ownsDatabase) await dropDatabase(this.adminUrl, this.databaseName);
  }
}
