import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { StepInterruptedError } from './job-errors.js';
import type { RunDriver } from './run-driver.js';

/** Said in the thread while an action waits for its start to be journaled. */
export const JOURNAL_HOLD_REASON =
  "the bot's journal (its own Postgres) cannot be written, and an action starts only once its start is recorded " +
  'there, so that losing Redis can never make it run twice; the bot keeps trying on its own';

export interface JournalGateOptions {
  /** First wait before trying the journal again; doubles. @defaultValue 500 */
  readonly retryBaseMs?: number;
  /** Cap of that wait, kept for as long as the journal cannot be written. @defaultValue 15000 */
  readonly retryMaxMs?: number;
}

export interface UntilJournaledRequest {
  readonly driver: Pick<RunDriver, 'journalRun'>;
  readonly runId: string;
  readonly jobId: string;
  /** The worker's shutdown: waiting stops with {@link StepInterruptedError}, and the job runs again elsewhere. */
  readonly shutdown: AbortSignal;
  readonly logger: Logger;
  /** Called once, at the first failure (to say in the thread that the step is held); its own failure is logged. */
  readonly onHeld?: () => Promise<void>;
}

/**
 * Resolves once the journal holds the run as its live log does now, trying again with capped backoff for as long
 * as the journal cannot be written: a side effect never runs without its start in the journal.
 */
export async function untilJournaled(request: UntilJournaledRequest, options: JournalGateOptions = {}): Promise<void> {
  const { driver, runId, jobId, shutdown, logger } = request;
  const base = options.retryBaseMs ?? 500;
  const max = options.retryMaxMs ?? 15_000;
  for (let failures = 0; ; failures++) {
    if (shutdown.aborted) throw new StepInterruptedError(runId, jobId);
    try {
      await driver.journalRun(runId);
      if (failures > 0) logger.info({ runId, failures }, 'journal writable again; the action goes on');
      return;
    } catch (err) {
      if (failures === 0) {
        logger.warn({ runId, err }, 'journal not writable; the action waits until its start is journaled');
        await request.onHeld?.().catch((e: unknown) => logger.warn({ runId, err: e }, 'could not record the hold'));
      }
    }
    try {
      await sleep(Math.min(max, base * 2 ** failures), undefined, { signal: shutdown });
    } catch {
      throw new StepInterruptedError(runId, jobId);
    }
  }
}
