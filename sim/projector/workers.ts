import type pg from 'pg';
import type { SimClock } from '../util/clock.js';
import { catchUp } from './catch-up.js';
import { recordFailure } from './failures.js';
import { PROJECTIONS, ProjectionError, type ProjectionName } from './names.js';

/** `projection_max_retries` and the 250 ms·2^(n−1) backoff for storage errors. */
const MAX_RETRIES = 5;
const RETRY_BASE_MS = 250;

export interface WorkerDeps {
  pool: pg.Pool;
  pollIntervalMs: number;
  readOnly: () => boolean;
  clock: SimClock;
}

type WorkerStatus = 'idle' | 'running' | 'retrying' | 'failed';

/**
 * One live projector worker (tenant, projection): catch up from the durable cursor, then poll. Verification
 * failures are terminal (an open failure row, polling stops); storage errors are retried with backoff.
 */
class ProjectionWorker {
  status: WorkerStatus = 'idle';
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private rerun = false;
  private retries = 0;
  private processed = 0;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly tenantId: string,
    private readonly projection: ProjectionName,
  ) {}

  /** An append arrived: run now (a failed worker tries again, and fails again on the same event). */
  poke(): void {
    if (this.stopped) return;
    if (this.status === 'running') {
      this.rerun = true;
      return;
    }
    clearTimeout(this.timer);
    if (this.status === 'failed') this.retries = 0;
    void this.cycle();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.cycle(), ms);
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    this.status = 'running';
    this.rerun = false;
    try {
      const result = await catchUp(this.deps.pool, {
        clock: this.deps.clock,
        tenantId: this.tenantId,
        projection: this.projection,
        readOnly: this.deps.readOnly,
      });
      this.processed += result.processed;
      this.retries = 0;
      this.status = 'idle';
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ProjectionError) return this.fail(err, false);
      this.retries += 1;
      if (this.retries > MAX_RETRIES) return this.fail(err as Error, true);
      this.status = 'retrying';
      this.schedule(RETRY_BASE_MS * 2 ** (this.retries - 1));
      return;
    }
    if (this.rerun) return this.cycle();
    this.schedule(this.deps.pollIntervalMs);
  }

  private async fail(err: Error, recoverable: boolean): Promise<void> {
    this.status = 'failed';
    const at = err instanceof ProjectionError ? err.event : { log_seq: 0, trace_id: '', event_id: '' };
    // Under a database outage this write fails as well; the worker still stops.
    await recordFailure(this.deps.pool, this.deps.clock, {
      tenantId: this.tenantId,
      projection: this.projection,
      logSeq: at.log_seq,
      traceId: at.trace_id,
      eventId: at.event_id,
      errorCode: err instanceof ProjectionError ? err.code : 'storage',
      errorMessage: err.message,
      recoverable,
      retryCount: recoverable ? MAX_RETRIES : 0,
      processedEvents: this.processed,
    }).catch(() => undefined);
  }
}

/** The node's live workers, started lazily by appends only (nothing starts them at boot). */
export class LiveWorkers {
  private readonly workers = new Map<string, ProjectionWorker>();
  private stopped = false;

  constructor(private readonly deps: WorkerDeps) {}

  /** Starts or wakes the tenant's three workers; true when the projector was poked. */
  poke(tenantId: string): boolean {
    if (this.stopped) return false;
    for (const projection of PROJECTIONS) {
      const key = `${tenantId}\u0000${projection}`;
      let worker = this.workers.get(key);
      if (!worker) {
        worker = new ProjectionWorker(this.deps, tenantId, projection);
        this.workers.set(key, worker);
      }
      worker.poke();
    }
    return true;
  }

  get activeCount(): number {
    return this.workers.size;
  }

  /** Stops the tenant's workers; its next append starts them again. */
  stopTenant(tenantId: string): void {
    for (const projection of PROJECTIONS) {
      const key = `${tenantId}\u0000${projection}`;
      this.workers.get(key)?.stop();
      this.workers.delete(key);
    }
  }

  /** Stops every worker; the next append starts them again. */
  stopAll(): void {
    for (const w of this.workers.values()) w.stop();
    this.workers.clear();
  }

  /** The node is going away: stop, and ignore pokes that arrive late. */
  shutdown(): void {
    this.stopped = true;
    this.stopAll();
  }
}
