import type {
  BackupArtifact,
  CallResult,
  ChecklistMeasurement,
  ExecutorCall,
  GraphContextBody,
  HealthzBody,
  HostActionMeasurement,
  IntegrityCheckName,
  Measurement,
  OpenRunBody,
  ProjectionHealthBody,
  ReplayRunBody,
  RuntimeBehaviour,
  SmokeMeasurement,
  SqlIntegrityMeasurement,
  StepOutcome,
  TraceBody,
} from '../../src/runbook/index.js';
import { INTEGRITY_CHECKS } from '../../src/runbook/index.js';

// A deterministic stand-in for DecisionGraph, its Postgres and its host, answering executor calls with
// contract-shaped measurements (decisiongraph-contract.md §3–§5) the way the real server would, so a scenario can
// be walked from its fault to the end without I/O. Request ids count per world, so a run's events do not depend on
// what other tests did before it.

export const PROJECTIONS = ['context_graph', 'trace_summary', 'precedent_index'] as const;
export type ProjectionName = (typeof PROJECTIONS)[number];
export type HostMode = 'command' | 'http' | 'manual';

/** How long each executor call takes, so step durations in a summary look like a real run. */
const LATENCY_MS: Readonly<Record<string, number>> = {
  'host.restart_runtime': 42_000,
  'host.start_runtime': 38_000,
  'host.stop_runtime': 9_000,
  'host.restore_postgres': 95_000,
  'host.stop_writes': 3_000,
  'host.preserve_database': 210_000,
  'host.list_backups': 2_000,
  'host.restore_backup': 380_000,
  'host.switch_release': 64_000,
  'sql.integrity': 21_000,
  'smoke.checks': 6_000,
  'gate.checklist': 1_400,
};

export function latencyOf(executor: string): number {
  return LATENCY_MS[executor] ?? 300;
}

export class World {
  runtimeUp = true;
  postgresUp = true;
  connected = true;
  /** The runtime's pool reconnects by itself once Postgres is back. */
  reconnectsByItself = true;
  tail = 2168;
  cursors: Record<ProjectionName, number> = { context_graph: 2168, trace_summary: 2168, precedent_index: 2168 };
  /** Workers running: each call moves every healthy cursor behind the tail halfway to it. */
  workersRunning = false;
  failures: Record<ProjectionName, number> = { context_graph: 0, trace_summary: 0, precedent_index: 0 };
  failureRows: { projection_name: string; error_code: string; event_id: string; log_seq: number; count: number }[] = [];
  openRuns: OpenRunBody[] = [];
  activeReplayJobs = 0;
  replay: ({ -readonly [K in keyof ReplayRunBody]: ReplayRunBody[K] } & { polls: number }) | null = null;
  replayPollsToFinish = 2;
  replayOutcome: 'completed' | 'failed' = 'completed';
  /** The number in the next replay job's id. */
  nextJob = 5801;
  allowRebuild = true;
  /** The bot's account lacks `projection_replay` (403 on every replay request). */
  replayForbidden = false;
  traceMissing = false;
  integrity: Partial<Record<IntegrityCheckName, number>> = {};
  /** Integrity findings the restored database still has (a damaged backup). */
  integrityAfterRestore: Partial<Record<IntegrityCheckName, number>> = {};
  /** The same for one backup (by the artifact restored), before `integrityAfterRestore`. */
  integrityAfterRestoreOf: Record<string, Partial<Record<IntegrityCheckName, number>>> = {};
  /** Cursors the restored database carries (projection tables newer than its log). */
  cursorsAfterRestore: number | undefined;
  /** Run rows the restored database carries (a backup taken while a replay run was open). */
  openRunsAfterRestore: OpenRunBody[] = [];
  smokeFailing: string[] = [];
  release = 'v1.5.0';
  backups: BackupArtifact[] = [
    {
      id: 'nightly-0307',
      path: '/var/backups/dg/dg-20260307-0200.dump',
      created_at: '2026-03-07T02:00:00Z',
      size_bytes: 1_288_490_188,
      label: 'nightly',
    },
    {
      id: 'pre-upgrade-0306',
      path: '/var/backups/dg/dg-20260306-1800-pre-upgrade.dump',
      created_at: '2026-03-06T18:00:00Z',
      size_bytes: 1_231_028_224,
      label: 'pre-upgrade v1.5.0',
    },
    {
      id: 'nightly-0306',
      path: '/var/backups/dg/dg-20260306-0200.dump',
      created_at: '2026-03-06T02:00:00Z',
      size_bytes: 1_190_000_000,
      label: 'nightly',
    },
  ];
  /** A backup that appears after the list was read (a scheduled dump finishing mid-incident). */
  lateBackup: BackupArtifact | undefined;
  listBackupsCalls = 0;
  /** How each host action is configured (by action name), else `defaultMode`. */
  modes: Partial<Record<string, HostMode>> = {};
  defaultMode: HostMode = 'command';
  /** Host actions that fail the next N times (by action name). */
  hostFailures: Record<string, number> = {};
  /** Host actions run (not manual), by action name. */
  hostCalls: Record<string, number> = {};
  /** Every executor called, in order. */
  calls: string[] = [];
  writesStopped = false;
  preserved = false;
  restoredArtifact: string | undefined;
  /** `sql.parity` cannot reach Postgres, though the rest of the world answers. */
  parityUnreachable = false;
  /** Executors that fail transiently (a timeout, no measurement) the next N times. */
  transientFailures: Record<string, number> = {};
  private requests = 0;

  private evidence(method: string, path: string, status: number | null) {
    this.requests++;
    return {
      method,
      path,
      status,
      requestId: status === null ? null : `F2x${String(this.requests).padStart(4, '0')}`,
      latencyMs: 4 + (this.requests % 7),
    };
  }

  private ok<T>(data: T, method: string, path: string, status = 200): CallResult<T> {
    return { ok: true, data, evidence: this.evidence(method, path, status) };
  }

  private fail<T>(
    code: string,
    status: number | null,
    path: string,
    opts: { message: string; transient: boolean; dgCode?: string; dgMessage?: string; method?: string },
  ): CallResult<T> {
    return {
      ok: false,
      error: {
        code,
        message: opts.message,
        transient: opts.transient,
        ...(opts.dgCode ? { dgCode: opts.dgCode, dgMessage: opts.dgMessage ?? opts.message } : {}),
      },
      evidence: this.evidence(opts.method ?? 'GET', path, status),
    };
  }

  private unreachable<T>(path: string, method = 'GET'): CallResult<T> {
    return this.fail<T>('DG_ERR_API_UNREACHABLE', null, path, {
      message: 'connect ECONNREFUSED 10.0.4.12:4100',
      transient: true,
      method,
    });
  }

  private dbDown<T>(path: string): CallResult<T> {
    return this.fail<T>('DG_ERR_API_INTERNAL', 500, path, {
      message: 'internal_error: DBConnection.ConnectionError tcp connect (db:5432): connection refused',
      transient: true,
      dgCode: 'internal_error',
    });
  }

  /** Time passes between calls: running workers move every healthy cursor behind the tail halfway to it. */
  private tick(): void {
    if (!this.workersRunning) return;
    for (const p of PROJECTIONS) {
      if (this.failures[p] === 0 && this.cursors[p] < this.tail) {
        this.cursors[p] += Math.ceil((this.tail - this.cursors[p]) / 2);
      }
    }
  }

  health(): ProjectionHealthBody {
    return {
      tenant_id: 'default',
      event_log_last_seq: this.tail,
      projections: PROJECTIONS.map((name) => ({
        projection_name: name,
        last_log_seq: this.cursors[name],
        pending_events: Math.max(this.tail - this.cursors[name], 0),
        is_stale: this.cursors[name] < this.tail,
        updated_at: '2026-03-07T11:58:12.4Z',
        digest: `sha256:${'c'.repeat(64)}`,
        open_failures: this.failures[name],
      })),
      open_runs: [...this.openRuns],
      full_digest: `sha256:${'d'.repeat(64)}`,
    };
  }

  private up(): boolean {
    return this.runtimeUp && this.postgresUp && this.connected;
  }

  healthz(): CallResult<HealthzBody> {
    if (!this.runtimeUp) return this.unreachable('/api/healthz');
    const db = this.postgresUp && this.connected;
    return this.ok(
      {
        projection_health: db
          ? this.health()
          : {
              status: 'unavailable',
              reason: 'connection not available and request was dropped from queue after 2000ms',
            },
        projector: { active_replay_jobs: this.activeReplayJobs },
        store: { 'repo_started?': db },
      },
      'GET',
      '/api/healthz',
    );
  }

  projectionHealth(): CallResult<ProjectionHealthBody> {
    const path = '/api/v1/projections/health';
    if (!this.runtimeUp) return this.unreachable(path);
    if (!this.up()) return this.dbDown(path);
    return this.ok(this.health(), 'GET', path);
  }

  trace(): CallResult<TraceBody> {
    const path = '/api/v1/traces/trace-7f3a';
    if (!this.runtimeUp) return this.unreachable(path);
    if (!this.up()) return this.dbDown(path);
    if (this.smokeFailing.includes('trace_read')) {
      return this.fail('DG_ERR_API_INTERNAL', 500, path, {
        message: 'internal_error: column s.summary_version does not exist',
        transient: true,
        dgCode: 'internal_error',
      });
    }
    if (this.cursors.trace_summary < this.tail) {
      return this.fail('DG_ERR_API_PROJECTION_OUT_OF_DATE', 409, path, {
        message: 'projection_out_of_date',
        transient: true,
        dgCode: 'projection_out_of_date',
        dgMessage: `Projections at log_seq=${this.cursors.trace_summary}, events at ${this.tail}`,
      });
    }
    if (this.traceMissing) {
      return this.fail('DG_ERR_API_NOT_FOUND', 404, path, {
        message: 'not_found',
        transient: false,
        dgCode: 'not_found',
        dgMessage: 'Trace not found: trace-7f3a',
      });
    }
    return this.ok(
      { events: [{}, {}, {}, {}, {}], summary: { trace_id: 'trace-7f3a', event_count: 5, last_log_seq: 1877 } },
      'GET',
      path,
    );
  }

  private hostAction(executor: string, call: ExecutorCall): HostActionMeasurement {
    const action = executor.slice('host.'.length);
    const mode = this.modes[action] ?? this.defaultMode;
    if (mode === 'manual') {
      return {
        mode: 'manual',
        instructions: `On the DecisionGraph host, ${action.replaceAll('_', ' ')} as the operations handbook describes, then click Done.`,
      };
    }
    this.hostCalls[action] = (this.hostCalls[action] ?? 0) + 1;
    const failures = this.hostFailures[action] ?? 0;
    const failed = failures > 0;
    if (failed) this.hostFailures[action] = failures - 1;
    else this.applyHostEffect(action, call);
    const durationMs = latencyOf(executor);
    if (mode === 'http') {
      return {
        mode: 'http',
        method: 'POST',
        url: `https://ops.example.internal/hooks/dg/${action}`,
        status: failed ? 502 : 202,
        timedOut: false,
        durationMs,
        ...(failed ? { bodyTail: 'upstream unavailable' } : {}),
      };
    }
    const extra = Object.values(call.params).map(String);
    return {
      mode: 'command',
      argv: ['/opt/dg-ops/bin/dg-host', action.replaceAll('_', '-'), ...extra],
      exitCode: failed ? 1 : 0,
      signal: null,
      timedOut: false,
      durationMs,
      outputTail: failed ? `${action}: pg_restore: error: could not read input file` : `${action}: ok`,
    };
  }

  /** What a host action does to the world (also applied when a person clicks Done on a manual one). */
  applyHostEffect(action: string, call?: ExecutorCall): void {
    switch (action) {
      case 'restart_runtime':
      case 'start_runtime':
        this.runtimeUp = true;
        this.connected = this.postgresUp;
        this.activeReplayJobs = 0;
        this.replay = null;
        this.workersRunning = false;
        break;
      case 'stop_runtime':
        this.runtimeUp = false;
        break;
      case 'restore_postgres':
        this.postgresUp = true;
        if (this.reconnectsByItself) this.connected = true;
        break;
      case 'stop_writes':
        this.writesStopped = true;
        break;
      case 'preserve_database':
        this.preserved = true;
        break;
      case 'restore_backup': {
        this.restoredArtifact = String(call?.params.artifact ?? 'manual');
        this.integrity = { ...(this.integrityAfterRestoreOf[this.restoredArtifact] ?? this.integrityAfterRestore) };
        this.tail = 2100;
        const cursor = this.cursorsAfterRestore ?? 2100;
        for (const p of PROJECTIONS) this.cursors[p] = cursor;
        this.openRuns = [...this.openRunsAfterRestore];
        this.smokeFailing = this.smokeFailing.filter((c) => c !== 'trace_read' && c !== 'projection_health');
        break;
      }
      case 'switch_release':
        this.release = String(call?.params.release ?? 'v1.4.2');
        this.smokeFailing = [];
        break;
    }
  }

  respond(call: ExecutorCall): StepOutcome {
    this.calls.push(call.executor);
    this.tick();
    const transient = this.transientFailures[call.executor] ?? 0;
    if (transient > 0) {
      this.transientFailures[call.executor] = transient - 1;
      return { kind: 'error', error: { code: 'DG_ERR_API_TIMEOUT', message: 'headers timeout', transient: true } };
    }
    return { kind: 'measured', measurement: this.measure(call) };
  }

  private measure(call: ExecutorCall): Measurement {
    const e = call.executor;
    switch (e) {
      case 'dg.healthz':
        return this.healthz();
      case 'dg.projection_health':
        return this.projectionHealth();
      case 'dg.trace_read':
        return this.trace();
      case 'dg.graph_read': {
        const path = `/api/v1/graph/context?node_type=trace&node_id=${String(call.params.nodeId)}`;
        return this.cursors.context_graph < this.tail
          ? this.fail<GraphContextBody>('DG_ERR_API_PROJECTION_OUT_OF_DATE', 409, path, {
              message: 'projection_out_of_date',
              transient: true,
              dgCode: 'projection_out_of_date',
            })
          : this.ok({ nodes: [{}, {}, {}], edges: [{}, {}], truncated: false }, 'GET', path);
      }
      case 'dg.workflow_inbox':
        return this.ok(
          { items: [], summary: { total_count: 12, open_count: 3, overdue_count: 1, escalated_count: 0 } },
          'GET',
          '/api/v1/workflows',
        );
      case 'dg.workflow_read':
        return this.ok(
          { workflow: { workflow_id: String(call.params.workflowId), status: 'in_review', overdue: false } },
          'GET',
          `/api/v1/workflows/${String(call.params.workflowId)}`,
        );
      case 'dg.replay_start':
        return this.replayStart(call);
      case 'dg.replay_poll':
        return this.replayPoll(String(call.params.jobId));
      case 'dg.replay_inventory':
        return {
          healthz: this.healthz(),
          projectionHealth: this.projectionHealth(),
          sql: { openRuns: this.openRuns.map((r) => ({ ...r, tenant_id: 'default' })) },
        };
      case 'sql.reach':
        return this.postgresUp
          ? { reachable: true, latencyMs: 3, serverVersion: '16.4' }
          : {
              reachable: false,
              latencyMs: 5003,
              error: {
                code: 'DG_ERR_SQL_UNREACHABLE',
                message: 'connect ECONNREFUSED 10.0.4.20:5432',
                transient: true,
              },
            };
      case 'sql.integrity':
        return {
          checks: INTEGRITY_CHECKS.map((name) => ({
            name,
            rowCount: this.integrity[name] ?? 0,
            sample:
              (this.integrity[name] ?? 0) > 0
                ? [{ event_id: 'evt-01HQ7Z', trace_id: 'trace-7f3a', log_seq: 1877 }]
                : [],
            sql: `-- ${name} (contract §5.4)`,
            latencyMs: 3100,
          })),
        };
      case 'sql.parity':
        if (this.parityUnreachable) {
          const error = {
            code: 'DG_ERR_SQL_UNREACHABLE',
            message: 'connect ECONNREFUSED 10.0.4.20:5432',
            transient: true,
          };
          return {
            eventCount: 0,
            maxLogSeq: 0,
            tenantCount: 0,
            sql: 'SELECT COUNT(*), MAX(log_seq) …',
            latencyMs: 5003,
            error,
          };
        }
        return {
          eventCount: this.tail - 68,
          maxLogSeq: this.tail,
          tenantCount: 2,
          sql: 'SELECT COUNT(*), MAX(log_seq), COUNT(DISTINCT tenant_id) FROM dg_event_log',
          latencyMs: 840,
        };
      case 'sql.projection_failures':
        return {
          rows: this.failureRows,
          sql: 'SELECT projection_name, error_code, event_id, log_seq, COUNT(*) FROM dg_projection_failures …',
          latencyMs: 12,
        };
      case 'sql.cursor_ahead':
        return {
          rows: PROJECTIONS.filter((p) => this.cursors[p] > this.tail).map((p) => ({
            tenant_id: 'default',
            projection_name: p,
            last_log_seq: this.cursors[p],
            tail: this.tail,
          })),
          sql: 'SELECT c.tenant_id, c.projection_name, c.last_log_seq, tail FROM dg_projection_cursors c …',
          latencyMs: 4,
        };
      case 'host.list_backups': {
        this.listBackupsCalls++;
        const m = this.hostAction(e, call);
        if (m.mode === 'manual') return m;
        const late = this.lateBackup && this.listBackupsCalls > 1 ? [this.lateBackup] : [];
        return { ...m, artifacts: [...late, ...this.backups] };
      }
      case 'host.restart_runtime':
      case 'host.stop_runtime':
      case 'host.start_runtime':
      case 'host.restore_postgres':
      case 'host.stop_writes':
      case 'host.preserve_database':
      case 'host.restore_backup':
      case 'host.switch_release':
        return this.hostAction(e, call);
      case 'smoke.checks':
        return this.smoke();
      case 'gate.checklist':
        return this.checklist(call);
    }
  }

  private replayStart(call: ExecutorCall) {
    const mode = String(call.params.mode);
    const projection = String(call.params.projection);
    const request = { mode, projection, reason: String(call.params.reason ?? '') };
    const path = '/api/v1/admin/replays';
    if (!this.runtimeUp) return { request, result: this.unreachable<{ run: ReplayRunBody }>(path, 'POST') };
    if (!this.up()) return { request, result: this.dbDown<{ run: ReplayRunBody }>(path) };
    if (this.replayForbidden) {
      return {
        request,
        result: this.fail<{ run: ReplayRunBody }>('DG_ERR_API_FORBIDDEN', 403, path, {
          message: 'Service account lacks projection_replay permission',
          transient: false,
          dgCode: 'forbidden',
          method: 'POST',
        }),
      };
    }
    if (mode === 'rebuild' && !this.allowRebuild) {
      return {
        request,
        result: this.fail<{ run: ReplayRunBody }>('DG_ERR_API_FORBIDDEN', 403, path, {
          message: 'Projection rebuilds are disabled in this deployment',
          transient: false,
          dgCode: 'forbidden',
          method: 'POST',
        }),
      };
    }
    if (this.replay && (this.replay.status === 'running' || this.replay.status === 'queued')) {
      return {
        request,
        result: this.fail<{ run: ReplayRunBody }>('DG_ERR_API_CONFLICT', 409, path, {
          message: `A replay job is already running for default/:${projection}`,
          transient: false,
          dgCode: 'conflict',
          method: 'POST',
        }),
        openRuns: [...this.openRuns],
      };
    }
    const job = `replay-${this.nextJob++}`;
    this.replay = {
      job_id: job,
      projection_name: projection,
      mode,
      status: 'queued',
      processed_events: 0,
      last_log_seq: 0,
      error_code: null,
      error_message: null,
      polls: 0,
    };
    this.activeReplayJobs = 1;
    this.openRuns = [
      ...this.openRuns,
      { job_id: job, projection_name: projection, mode, status: 'queued', requested_at: '2026-03-07T12:05:00Z' },
    ];
    const { polls: _polls, ...run } = this.replay;
    return { request, result: this.ok({ run }, 'POST', path, 202) };
  }

  private replayPoll(jobId: string) {
    const path = `/api/v1/admin/replays/${jobId}`;
    const run = this.replay;
    if (run === null || run.job_id !== jobId) {
      return {
        run: this.fail<{ run: ReplayRunBody }>('DG_ERR_API_NOT_FOUND', 404, path, {
          message: 'not_found',
          transient: false,
          dgCode: 'not_found',
        }),
      };
    }
    run.polls++;
    if (run.polls < this.replayPollsToFinish) {
      run.status = 'running';
      run.processed_events = 250 * run.polls;
      run.last_log_seq = Math.min(this.tail, this.cursors.trace_summary + 250 * run.polls);
    } else if (run.status === 'running' || run.status === 'queued') {
      run.status = this.replayOutcome;
      this.activeReplayJobs = 0;
      this.openRuns = this.openRuns.filter((r) => r.job_id !== jobId);
      if (this.replayOutcome === 'completed') {
        for (const p of PROJECTIONS) {
          // A catch_up cannot move a cursor that is ahead of the tail back: only a rebuild can.
          if (run.mode === 'rebuild' || this.cursors[p] <= this.tail) this.cursors[p] = this.tail;
          this.failures[p] = 0;
        }
        this.failureRows = [];
        this.workersRunning = true;
        run.processed_events = 412;
        run.last_log_seq = this.tail;
      } else {
        run.error_code = 'conflict';
        run.error_message = 'Payload hash mismatch for event evt-01HQ7Z at log_seq 1877';
        // A failed rebuild has deleted the failure rows with the projections: only the run row tells.
        if (run.mode === 'rebuild') for (const p of PROJECTIONS) this.failures[p] = 0;
      }
    }
    const { polls: _polls, ...body } = run;
    return { run: this.ok({ run: body }, 'GET', path), health: this.projectionHealth() };
  }

  private smoke(): SmokeMeasurement {
    const checks: [string, string, string][] = [
      ['healthz', 'GET', '/api/healthz'],
      ['projection_health', 'GET', '/api/v1/projections/health'],
      ['replay_admission', 'POST', '/api/v1/admin/replays'],
      ['trace_read', 'GET', '/api/v1/traces/trace-7f3a'],
      ['workflow_list', 'GET', '/api/v1/workflows'],
    ];
    return {
      checks: checks.map(([name, method, path]) => {
        const ok = this.runtimeUp && !this.smokeFailing.includes(name);
        return {
          name,
          ok,
          detail: ok ? `${name} ok on ${this.release}` : `${name} regressed on ${this.release}: 500 internal_error`,
          source: { kind: 'http' as const, method, path, status: ok ? 200 : 500 },
        };
      }),
    };
  }

  /** Failure rows and failed replays recorded since the run started: the world keeps none by default. */
  repeatedFailures: RuntimeBehaviour['repeatedFailures'] = [];
  failedRunsSince: RuntimeBehaviour['failedRuns'] = [];

  private runtimeSince(since: string): RuntimeBehaviour {
    const lowest = Math.min(...PROJECTIONS.map((p) => this.cursors[p]));
    return {
      since,
      repeatedFailures: this.repeatedFailures,
      failedRuns: this.failedRunsSince,
      tenants: [
        {
          tenantId: 'default',
          tail: this.tail,
          lowestCursor: lowest,
          openFailures: PROJECTIONS.reduce((n, p) => n + this.failures[p], 0),
        },
      ],
    };
  }

  private checklist(call: ExecutorCall): ChecklistMeasurement {
    const ahead = PROJECTIONS.filter((p) => this.cursors[p] > this.tail).map((p) => ({
      tenant_id: 'default',
      projection_name: p,
      last_log_seq: String(this.cursors[p]),
      tail: String(this.tail),
    }));
    return {
      healthz: this.healthz(),
      projectionHealth: this.projectionHealth(),
      sql: this.postgresUp
        ? {
            cursorAhead: ahead,
            openRuns: this.openRuns.map((r) => ({ ...r, tenant_id: 'default' })),
            ...(typeof call.params.since === 'string' ? { runtime: this.runtimeSince(call.params.since) } : {}),
          }
        : { error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true } },
      trace: this.trace(),
      ...(call.params.integrity === true
        ? { integrity: this.measure({ ...call, executor: 'sql.integrity' }) as SqlIntegrityMeasurement }
        : {}),
      ...(call.params.workflowId !== undefined
        ? {
            workflow: this.ok(
              { workflow: { workflow_id: String(call.params.workflowId), status: 'in_review' } },
              'GET',
              `/api/v1/workflows/${String(call.params.workflowId)}`,
            ),
          }
        : {}),
    };
  }
}

/** A replay run a crash cut off: still marked running, with no job behind it. */
export function orphan(job: string): OpenRunBody {
  return {
    job_id: job,
    projection_name: 'all',
    mode: 'catch_up',
    status: 'running',
    requested_at: '2026-03-07T09:41:07Z',
    started_at: '2026-03-07T09:41:08Z',
    processed_events: 750,
    last_log_seq: 1900,
  };
}
