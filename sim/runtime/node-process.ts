import type pg from 'pg';
import { RateLimiter, type RateScope } from '../http/rate-limit.js';
import { ReplayCoordinator } from '../projector/coordinator.js';
import { LiveWorkers } from '../projector/workers.js';
import type { SimClock } from '../util/clock.js';

export interface NodeProcessDeps {
  pool: pg.Pool;
  rateLimits: Record<RateScope, number>;
  nextJobId: () => string;
  readOnly: () => boolean;
  replayBatchDelayMs: number;
  replayDurationMs: number;
  clock: SimClock;
  pollIntervalMs: number;
  onReplayEnded?: (startedAt: number, endedAt: number) => void;
}

/** The memory of one DecisionGraph node lifetime: lost on every restart, as ETS tables and processes are. */
export class NodeProcess {
  readonly coordinator: ReplayCoordinator;
  readonly workers: LiveWorkers;
  readonly rateLimiter: RateLimiter;

  constructor(deps: NodeProcessDeps) {
    this.coordinator = new ReplayCoordinator({
      pool: deps.pool,
      nextJobId: deps.nextJobId,
      readOnly: deps.readOnly,
      batchDelayMs: deps.replayBatchDelayMs,
      durationMs: deps.replayDurationMs,
      clock: deps.clock,
      ...(deps.onReplayEnded ? { onRunEnded: deps.onReplayEnded } : {}),
    });
    this.workers = new LiveWorkers({
      pool: deps.pool,
      pollIntervalMs: deps.pollIntervalMs,
      readOnly: deps.readOnly,
      clock: deps.clock,
    });
    this.rateLimiter = new RateLimiter(deps.rateLimits, () => deps.clock.now());
  }

  /** The process dies: replay tasks stop where they are (their rows stay as they were), workers stop. */
  kill(): void {
    this.coordinator.abandonAll();
    this.workers.shutdown();
  }
}
