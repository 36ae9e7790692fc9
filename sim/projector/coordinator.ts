import type pg from 'pg';
import { ApiError } from '../http/api-error.js';
import type { SimClock } from '../util/clock.js';
import { catchUp, RunStopped } from './catch-up.js';
import { PROJECTIONS, ProjectionError, type ProjectionName } from './names.js';
import { resetProjection } from './rebuild.js';
import { cancelRun, finishRun, insertRun, markRunning, type RunRow, recordProgress } from './runs.js';

export type ReplayMode = 'catch_up' | 'rebuild';

export interface ReplayRequest {
  tenantId: string;
  projection: ProjectionName | 'all';
  mode: ReplayMode;
  sinceLogSeq: number;
  untilLogSeq: number | null;
  metadataJson: string;
}

interface ActiveJob {
  jobId: string;
  tenantId: string;
  projection: string;
  mode: ReplayMode;
  controller: AbortController;
  /** Set when the node dies under the job: the task stops and leaves the row as it is (an orphan). */
  abandoned: boolean;
}

export interface CoordinatorDeps {
  pool: pg.Pool;
  nextJobId: () => string;
  readOnly: () => boolean;
  batchDelayMs: number;
  /** How long a run stays `running` before its first batch (a big or busy deployment). */
  durationMs: number;
  clock: SimClock;
  /** Told how long each run took, start to end, unless the node died under it. */
  onRunEnded?: (startedAt: number, endedAt: number) => void;
}

/**
 * The in-memory replay coordinator of one node lifetime: an admission lock per {tenant, projection} and the
 * running tasks. It never reconciles the runs table, so after a restart rows left `running` are orphans.
 */
export class ReplayCoordinator {
  private readonly jobs = new Map<string, ActiveJob>();

  constructor(private readonly deps: CoordinatorDeps) {}

  get activeCount(): number {
    return this.jobs.size;
  }

  /** The admission lock: one live job per {tenant, projection}; `all` and a single projection are separate. */
  assertFree(tenantId: string, projection: string): void {
    for (const job of this.jobs.values()) {
      if (job.tenantId === tenantId && job.projection === projection) {
        throw new ApiError('conflict', `A replay job is already running for ${tenantId}/:${projection}`);
      }
    }
  }

  /** Admits a run: checks the scope lock, inserts the queued row, starts the task; returns the queued row. */
  async admit(req: ReplayRequest): Promise<RunRow> {
    this.assertFree(req.tenantId, req.projection);
    const job: ActiveJob = {
      jobId: this.deps.nextJobId(),
      tenantId: req.tenantId,
      projection: req.projection,
      mode: req.mode,
      controller: new AbortController(),
      abandoned: false,
    };
    this.jobs.set(job.jobId, job);
    let row: RunRow;
    try {
      row = await insertRun(
        this.deps.pool,
        this.deps.clock,
        {
          jobId: job.jobId,
          tenantId: req.tenantId,
          projection: req.projection,
          mode: req.mode,
          sinceLogSeq: req.sinceLogSeq,
          untilLogSeq: req.untilLogSeq,
          metadataJson: req.metadataJson,
        },
        this.deps.readOnly(),
      );
    } catch (err) {
      this.jobs.delete(job.jobId);
      throw err;
    }
    setImmediate(() => void this.execute(job, req));
    return row;
  }

  /** The live job with this id for this tenant, if this node lifetime owns one. */
  owned(jobId: string, tenantId: string): { mode: ReplayMode } | undefined {
    const job = this.jobs.get(jobId);
    return job && job.tenantId === tenantId ? { mode: job.mode } : undefined;
  }

  async cancel(jobId: string): Promise<RunRow | null> {
    const job = this.jobs.get(jobId);
    if (job) {
      job.controller.abort();
      this.jobs.delete(jobId);
    }
    return cancelRun(this.deps.pool, this.deps.clock, jobId);
  }

  /** The node is going away: stop every task without touching its row. */
  abandonAll(): void {
    for (const job of this.jobs.values()) {
      job.abandoned = true;
      job.controller.abort();
    }
    this.jobs.clear();
  }

  private async execute(job: ActiveJob, req: ReplayRequest): Promise<void> {
    const { pool, clock } = this.deps;
    const signal = job.controller.signal;
    const projections: readonly ProjectionName[] = req.projection === 'all' ? PROJECTIONS : [req.projection];
    let processed = 0;
    let lastLogSeq = 0;
    // Committed batches of the projection in progress, so a failed run still reports what it got through.
    let inFlight = 0;
    const startedAt = clock.now();
    try {
      if (signal.aborted) return;
      await markRunning(pool, clock, job.jobId);
      await clock.sleep(this.deps.durationMs, signal);
      for (const projection of projections) {
        if (signal.aborted) throw new RunStopped();
        if (req.mode === 'rebuild') await resetProjection(pool, clock, req.tenantId, projection, this.deps.readOnly());
        const result = await catchUp(pool, {
          clock,
          tenantId: req.tenantId,
          projection,
          untilLogSeq: req.untilLogSeq,
          signal,
          readOnly: this.deps.readOnly,
          beforeBatch: () => clock.sleep(this.deps.batchDelayMs, signal),
          onBatch: (progress) => {
            inFlight = progress.processed;
            lastLogSeq = progress.lastLogSeq;
          },
        });
        inFlight = 0;
        processed += result.processed;
        lastLogSeq = result.lastLogSeq;
        if (req.projection === 'all' && !signal.aborted) await recordProgress(pool, job.jobId, processed, lastLogSeq);
      }
      if (signal.aborted) return;
      await finishRun(pool, clock, job.jobId, { status: 'completed', processed, lastLogSeq });
    } catch (err) {
      if (err instanceof RunStopped || signal.aborted) return;
      const errorCode = err instanceof ProjectionError ? err.code : 'storage';
      await finishRun(pool, clock, job.jobId, {
        status: 'failed',
        processed: processed + inFlight,
        lastLogSeq,
        errorCode,
        errorMessage: (err as Error).message,
      }).catch(() => undefined);
    } finally {
      if (!job.abandoned) this.deps.onRunEnded?.(startedAt, clock.now());
      if (!job.abandoned && this.jobs.get(job.jobId) === job) this.jobs.delete(job.jobId);
    }
  }
}
