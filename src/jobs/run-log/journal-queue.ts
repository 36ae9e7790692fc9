import type { BackoffStrategy, JobsOptions } from 'bullmq';

/** The BullMQ queue that carries the write-behind to the Postgres journal. */
export const JOURNAL_QUEUE = 'journal';
export const JOURNAL_JOB = 'sync-run';
const BACKOFF_TYPE = 'journal';

/** A job names a run, not events: the worker copies whatever the run log holds past the journal's last seq. */
export interface JournalJobData {
  readonly runId: string;
}

/**
 * One pending job per run (deduplicated by run id) and, while it runs, exactly one follow-up; after its retries the
 * sweep or the next append starts a fresh one (docs/internals.md#run-log).
 */
export function journalJobOptions(runId: string, attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: BACKOFF_TYPE },
    deduplication: { id: runId, keepLastIfActive: true },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
  };
}

/** Attempts of one journal job; after them the writer's periodic sweep queues the run again. */
export const DEFAULT_JOURNAL_ATTEMPTS = 20;

/** Exponential backoff capped at `maxMs`, with ±20 % jitter so writers on several nodes do not retry in step. */
export function journalBackoff(baseMs: number, maxMs: number): BackoffStrategy {
  return (attemptsMade) => {
    const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attemptsMade - 1));
    return Math.round(raw * (0.8 + Math.random() * 0.4));
  };
}
