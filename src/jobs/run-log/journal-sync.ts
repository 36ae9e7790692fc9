import type { Journal } from '../../store/journal.js';
import type { StoredRunEvent } from '../../store/run-event.js';
import type { RunLogStore } from './run-log-store.js';

export interface CopyRunOptions {
  /** Events per journal transaction. @defaultValue 500 */
  readonly batchSize?: number;
  /** How long a finished, fully journaled log stays in Redis; 0 keeps it. @defaultValue 604800 (7 days) */
  readonly finishedRunTtlSeconds?: number;
}

export interface CopyRunResult {
  readonly runId: string;
  /** Events this call added to the journal. */
  readonly pushed: number;
  readonly journaledSeq: number;
  /** The journal now holds the whole live log. */
  readonly complete: boolean;
}

export const DEFAULT_FINISHED_RUN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Copies whatever the live log holds past the journal's last seq, oldest first. Because it always continues from
 * the journal's own tail, the journal stays a gap-free prefix of the log whatever order jobs run in, however many
 * writers there are, and however often a copy is retried.
 */
export async function copyRunToJournal(
  store: RunLogStore,
  journal: Journal,
  runId: string,
  options: CopyRunOptions = {},
): Promise<CopyRunResult> {
  const batchSize = Math.max(1, options.batchSize ?? 500);
  let journaledSeq = await journal.lastSeq(runId);
  let pushed = 0;
  for (;;) {
    const events = await store.read<StoredRunEvent>(runId, journaledSeq + 1, batchSize);
    if (events.length === 0) break;
    const [result] = await journal.appendJournal(events);
    pushed += result?.appended ?? 0;
    journaledSeq = result?.lastSeq ?? journaledSeq;
    if (events.length < batchSize) break;
  }
  const complete = await store.markJournaled(
    runId,
    journaledSeq,
    options.finishedRunTtlSeconds ?? DEFAULT_FINISHED_RUN_TTL_SECONDS,
  );
  return { runId, pushed, journaledSeq, complete };
}
