import type {
  BackupArtifact,
  CallResult,
  ChecklistMeasurement,
  ExecutorCall,
  GraphContextBody,
  HostActionMeasurement,
  IntegrityCheckName,
  Measurement,
  OpenRunBody,
  ReplayRunBody,
  SmokeMeasurement,
  StepOutcome,
} from '../../../src/runbook/index.js';
import {
  failed,
  healthzBody,
  ok,
  PROJECTIONS,
  type ProjectionName,
  projectionHealth,
  replayRun,
  type TRACE,
  trace404,
  trace409,
  traceOk,
  unreachable,
} from './fixtures.js';

/**
 * A small stateful stand-in for DecisionGraph and its host, answering executor calls the way the contract says
 * the real server does, so a scenario can be walked from its fault to `recovered` without I/O.
 */
export class World {
  runtimeUp = true;
  postgresUp = true;
  /** The runtime's pool reconnects by itself once Postgres is back. */
  reconnectsByItself = true;
  connected = true;
  tail = 2168;
  cursors: Record<ProjectionName, number> = { context_graph: 2168, trace_summary: 2168, precedent_index: 2168 };
  /** Workers running: each projection-health read moves the cursors halfway to the tail. */
  workersRunning = false;
  failures: Record<ProjectionName, number> = { context_graph: 0, trace_summary: 0, precedent_index: 0 };
  failureRows: { projection_name: string; error_code: string; event_id: string; log_seq: number; count: number }[] = [];
  openRuns: OpenRunBody[] = [];
  activeReplayJobs = 0;
  replay: ({ -readonly [K in keyof ReplayRunBody]: ReplayRunBody[K] } & { polls: number }) | null = null;
  replayPollsToFinish = 2;
  replayOutcome: 'completed' | 'failed' = 'completed';
  replayCounter = 5762;
  allowRebuild = true;
  traceMissing = false;
  backups: BackupArtifact[] = [
    {
      id: 'nightly-0307',
      path: '/backups/dg-0307.dump',
      created_at: '2026-03-07T02:00:00Z',
      size_bytes: 1_288_490_188,
      label: 'nightly',
    },
    {
      id: 'pre-upgrade-0306',
      path: '/backups/dg-0306-pre.dump',
      created_at: '2026-03-06T18:00:00Z',
      size_bytes: 1_200_000_000,
      label: 'pre-upgrade v1.4',
    },
    {
      id: 'nightly-0306',
      path: '/backups/dg-0306.dump',
      created_at: '2026-03-06T02:00:00Z',
      size_bytes: 1_100_000_000,
      label: 'nightly',
    },
  ];
  integrity: Partial<Record<IntegrityCheckName, number>> = {};
  smokeFailing: string[] = [];
  release = 'v1.5.0';
  hostMode: 'command' | 'manual' | 'http' = 'command';
  /** Host actions that fail (exit code 1) the next N times. */
  hostFailures: Record<string, number> = {};
  hostCalls: Record<string, number> = {};
  calls: string[] = [];
  writesStopped = false;
  preserved = false;
  restoredArtifact: string | undefined;
  /** Executors that fail transiently the next N times. */
  transientFailures: Record<string, number> = {};

  private pendingOf(name: ProjectionName): number {
    return Math.max(this.tail - this.cursors[name], 0);
  }

  get current(): boolean {
    return PROJECTIONS.every((p) => this.pendingOf(p) === 0);
  }

  /** Time passes between calls: running workers move every healthy cursor halfway to the tail. */
  private tick(): void {
    if (!this.workersRunning) return;
    for (const p of PROJECTIONS) {
      if (this.failures[p] === 0) this.cursors[p] += Math.ceil((this.tail - this.cursors[p]) / 2);
    }
  }

  health() {
    return projectionHealth({
      tail: this.tail,
      cursors: this.cursors,
      failures: this.failures,
      openRuns: this.openRuns,
    });
  }

  healthzResult() {
    if (!this.runtimeUp) return unreachable<ReturnType<typeof healthzBody>>();
    const dbDown = !this.postgresUp || !this.connected;
    return ok(
      healthzBody({ dbDown, activeReplayJobs: this.activeReplayJobs, ...(dbDown ? {} : { health: this.health() }) }),
      'GET',
      '/api/healthz',
    );
  }

  projectionHealthResult() {
    if (!this.runtimeUp) return unreachable<ReturnType<typeof projectionHealth>>('/api/v1/projections/health');
    if (!this.postgresUp || !this.connected) {
      return failed<ReturnType<typeof projectionHealth>>('DG_ERR_API_INTERNAL', 500, {
        message: 'DBConnection.ConnectionError',
        transient: true,
        path: '/api/v1/projections/health',
      });
    }
    return ok(this.health(), 'GET', '/api/v1/projections/health');
  }

  traceResult(): CallResult<typeof TRACE> {
    if (!this.runtimeUp) return unreachable<typeof TRACE>('/api/v1/traces/t');
    if (this.cursors.trace_summary < this.tail) return trace409(this.cursors.trace_summary, this.tail);
    return this.traceMissing ? trace404() : traceOk();
  }

  private host(executor: string, call: ExecutorCall): HostActionMeasurement {
    const action = executor.slice('host.'.length);
    if (this.hostMode === 'manual') return { mode: 'manual', instructions: `Please ${action.replace('_', ' ')}` };
    this.hostCalls[action] = (this.hostCalls[action] ?? 0) + 1;
    const failures = this.hostFailures[action] ?? 0;
    if (failures > 0) {
      this.hostFailures[action] = failures - 1;
      return {
        mode: 'command',
        argv: ['/usr/local/bin/dg', action],
        exitCode: 1,
        signal: null,
        timedOut: false,
        durationMs: 20,
        outputTail: 'boom',
      };
    }
    this.applyHostEffect(action, call);
    if (this.hostMode === 'http') {
      return {
        mode: 'http',
        method: 'POST',
        url: `http://127.0.0.1:4199/${action}`,
        status: 200,
        timedOut: false,
        durationMs: 12,
      };
    }
    return {
      mode: 'command',
      argv: ['/usr/local/bin/dg', action],
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 20,
      outputTail: 'ok',
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
      case 'restore_backup':
        this.restoredArtifact = String(call?.params.artifact ?? 'manual');
        this.integrity = {};
        this.tail = 2100;
        for (const p of PROJECTIONS) this.cursors[p] = 2100;
        this.smokeFailing = this.smokeFailing.filter((c) => c !== 'trace_read');
        break;
      case 'switch_release':
        this.release = String(call?.params.release ?? 'manual');
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
        return this.healthzResult();
      case 'dg.projection_health':
        return this.projectionHealthResult();
      case 'dg.trace_read':
        return this.traceResult();
      case 'dg.graph_read':
        return this.cursors.context_graph < this.tail
          ? failed<GraphContextBody>('DG_ERR_API_PROJECTION_OUT_OF_DATE', 409, {
              dgCode: 'projection_out_of_date',
              transient: true,
            })
          : ok({ nodes: [{}, {}], edges: [{}], truncated: false });
      case 'dg.workflow_inbox':
        return ok({ items: [], summary: { total_count: 4, open_count: 2, overdue_count: 0, escalated_count: 0 } });
      case 'dg.workflow_read':
        return ok({ workflow: { workflow_id: String(call.params.workflowId), status: 'requested', overdue: false } });
      case 'dg.replay_start':
        return this.replayStart(call);
      case 'dg.replay_poll':
        return this.replayPoll(String(call.params.jobId));
      case 'dg.replay_inventory':
        return { healthz: this.healthzResult(), projectionHealth: this.projectionHealthResult() };
      case 'sql.reach':
        return this.postgresUp
          ? { reachable: true, latencyMs: 2, serverVersion: '16.2' }
          : {
              reachable: false,
              latencyMs: 1,
              error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'ECONNREFUSED', transient: true },
            };
      case 'sql.integrity':
        return {
          checks: (
            [
              'payload_hash_drift',
              'trace_seq_range',
              'trace_seq_step',
              'trace_started_mismatch',
              'events_after_finish',
              'cursor_ahead',
            ] as const
          ).map((name) => ({
            name,
            rowCount: this.integrity[name] ?? 0,
            sample: (this.integrity[name] ?? 0) > 0 ? [{ event_id: 'ev-9', trace_id: 't-1', log_seq: 77 }] : [],
            sql: `-- ${name}`,
            latencyMs: 3,
          })),
        };
      case 'sql.parity':
        return {
          eventCount: this.tail - 68,
          maxLogSeq: this.tail,
          tenantCount: 1,
          sql: 'SELECT COUNT(*), MAX(log_seq) FROM dg_event_log',
          latencyMs: 2,
        };
      case 'sql.projection_failures':
        return { rows: this.failureRows, sql: 'SELECT … FROM dg_projection_failures', latencyMs: 2 };
      case 'host.list_backups': {
        const m = this.host(e, call);
        return m.mode === 'manual' ? m : { ...m, artifacts: this.backups };
      }
      case 'host.restart_runtime':
      case 'host.stop_runtime':
      case 'host.start_runtime':
      case 'host.restore_postgres':
      case 'host.stop_writes':
      case 'host.preserve_database':
      case 'host.restore_backup':
      case 'host.switch_release':
        return this.host(e, call);
      case 'smoke.checks':
        return this.smoke();
      case 'gate.checklist':
        return this.checklist(call);
    }
  }

  private replayStart(call: ExecutorCall) {
    const mode = String(call.params.mode);
    const projection = String(call.params.projection);
    const path = '/api/v1/admin/replays';
    if (!this.runtimeUp)
      return {
        request: { mode, projection, reason: String(call.params.reason) },
        result: unreachable<{ run: ReplayRunBody }>(path),
      };
    const request = { mode, projection, reason: String(call.params.reason ?? '') };
    if (mode === 'rebuild' && !this.allowRebuild) {
      return {
        request,
        result: failed<{ run: ReplayRunBody }>('DG_ERR_API_FORBIDDEN', 403, {
          dgCode: 'forbidden',
          dgMessage: 'Projection rebuilds are disabled in this deployment',
          transient: false,
          method: 'POST',
          path,
        }),
      };
    }
    if (this.replay && (this.replay.status === 'running' || this.replay.status === 'queued')) {
      return {
        request,
        result: failed<{ run: ReplayRunBody }>('DG_ERR_API_CONFLICT', 409, {
          dgCode: 'conflict',
          dgMessage: `A replay job is already running for default/:${projection}`,
          transient: false,
          method: 'POST',
          path,
        }),
        openRuns: [...this.openRuns],
      };
    }
    this.replayCounter++;
    this.replay = {
      ...replayRun({ job_id: `replay-${this.replayCounter}`, mode, projection_name: projection }),
      polls: 0,
    };
    this.activeReplayJobs = 1;
    this.openRuns = [
      ...this.openRuns,
      {
        job_id: this.replay.job_id,
        projection_name: projection,
        mode,
        status: 'queued',
        requested_at: '2026-03-07T12:30:00Z',
      },
    ];
    return { request, result: ok({ run: replayRun({ ...this.replay }) }, 'POST', path, 202) };
  }

  private replayPoll(jobId: string) {
    const path = `/api/v1/admin/replays/${jobId}`;
    const run = this.replay;
    if (run === null || run.job_id !== jobId) {
      return { run: failed<{ run: ReplayRunBody }>('DG_ERR_API_NOT_FOUND', 404, { transient: false, path }) };
    }
    run.polls++;
    if (run.polls < this.replayPollsToFinish) {
      run.status = 'running';
      run.processed_events = 250 * run.polls;
    } else if (run.status === 'running' || run.status === 'queued') {
      run.status = this.replayOutcome;
      this.activeReplayJobs = 0;
      this.openRuns = this.openRuns.filter((r) => r.job_id !== jobId);
      if (this.replayOutcome === 'completed') {
        for (const p of PROJECTIONS) {
          this.cursors[p] = this.tail;
          this.failures[p] = 0;
        }
        this.failureRows = [];
        this.workersRunning = true;
      } else {
        run.error_code = 'conflict';
        run.error_message = 'Payload hash mismatch for event ev-9';
        if (run.mode === 'rebuild') for (const p of PROJECTIONS) this.failures[p] = 0;
      }
    }
    return {
      run: ok({ run: replayRun({ ...run }) }, 'GET', path),
      health: this.projectionHealthResult(),
    };
  }

  private smoke(): SmokeMeasurement {
    const names = ['healthz', 'projection_health', 'replay_admission', 'trace_read', 'workflow_list'];
    return {
      checks: names.map((name) => ({
        name,
        ok: this.runtimeUp && !this.smokeFailing.includes(name),
        detail: this.smokeFailing.includes(name) ? `${name} regressed` : 'ok',
        source: { kind: 'http' as const, method: 'GET', path: `/smoke/${name}`, status: 200 },
      })),
    };
  }

  private checklist(call: ExecutorCall): ChecklistMeasurement {
    const aheadRows = PROJECTIONS.filter((p) => this.cursors[p] > this.tail).map((p) => ({
      tenant_id: 'default',
      projection_name: p,
      last_log_seq: String(this.cursors[p]),
      tail: String(this.tail),
    }));
    return {
      healthz: this.healthzResult(),
      projectionHealth: this.projectionHealthResult(),
      sql: { cursorAhead: aheadRows, openRuns: this.openRuns.map((r) => ({ ...r, tenant_id: 'default' })) },
      trace: this.traceResult(),
      ...(call.params.workflowId !== undefined
        ? { workflow: ok({ workflow: { workflow_id: String(call.params.workflowId), status: 'requested' } }) }
        : {}),
    };
  }
}
