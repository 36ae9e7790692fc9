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
 * One pending job per run (deduplicated by run id): while it waits or backs off, further appends need no job of
 * their own because it will copy them too; while it runs, `keepLastIfActive` queues exactly one follow-up so an
 * event appended mid-copy is not left behind. Retries outlast a short Postgres outage; a longer one ends in a
 * failed job, and the writer's periodic sweep (and the next append) start a fresh one.
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
