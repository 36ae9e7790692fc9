import type { Logger } from '../../logger.js';
import type { Journal } from '../../store/journal.js';
import { JournalGapError } from '../../store/journal-errors.js';
import type { RunEventEnvelope } from '../../store/run-event.js';
import type { JournalRun } from '../../store/run-row.js';
import { type CopyRunResult, copyRunToJournal, DEFAULT_FINISHED_RUN_TTL_SECONDS } from './journal-sync.js';
import type { RunLogStore, RunSlot } from './run-log-store.js';

/**
 * Which slot an unfinished run holds: one `projections` run per tenant, one run of any other scenario per
 * deployment (node-wide). `undefined` takes no slot.
 */
export function defaultSlotFor(run: JournalRun): RunSlot | undefined {
  if (run.scenario === 'projections') return run.tenantId ? { scope: 'tenant', tenantId: run.tenantId } : undefined;
  return { scope: 'node' };
}

export interface RunRecoveryOptions {
  readonly store: RunLogStore;
  readonly journal: Journal;
  readonly logger?: Logger;
  /** @defaultValue {@link defaultSlotFor} */
  readonly slotFor?: (run: JournalRun) => RunSlot | undefined;
  /** How long a restored finished run's log stays in Redis; 0 keeps it. @defaultValue 604800 (7 days) */
  readonly finishedRunTtlSeconds?: number;
}

export type RebuildStatus =
  /** The log was missing and is back, as the journal has it. */
  | 'restored'
  /** Redis still has the log (at least as long as the journal's); nothing was overwritten. */
  | 'present'
  /** Redis has a log shorter than the journal's: someone appended after the loss; left alone for a person. */
  | 'diverged'
  | 'not_found';

export interface RebuildReport {
  readonly runId: string;
  readonly status: RebuildStatus;
  /** Last seq in Redis after the call. */
  readonly lastSeq: number;
  /** The run is unfinished and back in the active index. */
  readonly active: boolean;
  /** For an unfinished run that takes a slot: whether it holds it now, or who does. */
  readonly slot?: { readonly acquired: true } | { readonly acquired: false; readonly holderRunId: string };
}

export interface RunRecovery {
  /** Reloads one run from the journal into an empty live log and, if unfinished, re-takes its slot. */
  rebuildFromJournal(runId: string): Promise<RebuildReport>;
  /** After Redis lost its data: every unfinished journaled run is rebuilt (finished ones stay in the journal only). */
  restoreActiveRunsFromJournal(): Promise<RebuildReport[]>;
  /** Pushes live-log events the journal lacks (e.g. after an outage outlasted the writer's retries). */
  reconcileJournal(): Promise<CopyRunResult[]>;
  /** Copies what the run's live log holds past the journal's tail now, ahead of the write-behind. */
  journalRun(runId: string): Promise<CopyRunResult>;
  /**
   * Journals events just appended to the live log from the caller's hands, not read back: Redis may be gone a moment
   * after the append. A journal that lacks events before them is first brought up from the live log.
   */
  writeThrough(runId: string, events: readonly RunEventEnvelope[]): Promise<void>;
}

export function createRunRecovery(options: RunRecoveryOptions): RunRecovery {
  const { store, journal } = options;
  const slotFor = options.slotFor ?? defaultSlotFor;
  const ttl = options.finishedRunTtlSeconds ?? DEFAULT_FINISHED_RUN_TTL_SECONDS;
  const logger = options.logger?.child({ component: 'run-recovery' });

  async function rebuildFromJournal(runId: string): Promise<RebuildReport> {
    const loaded = await journal.loadRun(runId);
    if (!loaded) return { runId, status: 'not_found', lastSeq: await store.lastSeq(runId), active: false };
    const active = loaded.run.status === 'running';
    const res = await store.restoreRun(runId, loaded.events, { active, finishedRunTtlSeconds: ttl });
    const status: RebuildStatus = res.restored
      ? 'restored'
      : res.lastSeq >= loaded.run.lastSeq
        ? 'present'
        : 'diverged';
    if (status === 'diverged') {
      logger?.error(
        { runId, redisSeq: res.lastSeq, journalSeq: loaded.run.lastSeq },
        'live log is shorter than the journal; not overwritten',
      );
    }
    if (!active || status === 'diverged') return { runId, status, lastSeq: res.lastSeq, active: false };
    const slot = slotFor(loaded.run);
    if (!slot) return { runId, status, lastSeq: res.lastSeq, active };
    const taken = await store.acquireRunSlot({ ...slot, runId });
    if (!taken.acquired) {
      logger?.warn(
        { runId, holderRunId: taken.holderRunId, scope: slot.scope },
        'restored run could not retake its slot',
      );
    }
    return { runId, status, lastSeq: res.lastSeq, active, slot: taken };
  }

  const journalRun = (runId: string) => copyRunToJournal(store, journal, runId, { finishedRunTtlSeconds: ttl });

  return {
    rebuildFromJournal,
    journalRun,
    async writeThrough(runId, events) {
      try {
        await journal.appendJournal(events);
      } catch (error) {
        if (!(error instanceof JournalGapError)) throw error;
        await journalRun(runId);
      }
    },
    async restoreActiveRunsFromJournal() {
      const reports: RebuildReport[] = [];
      for (const run of await journal.listUnfinishedRuns()) {
        const report = await rebuildFromJournal(run.runId);
        if (report.status === 'restored') logger?.info({ runId: run.runId, lastSeq: report.lastSeq }, 'run restored');
        reports.push(report);
      }
      return reports;
    },
    async reconcileJournal() {
      const runIds = new Set([
        ...(await store.journalBacklog()).map((b) => b.runId),
        ...(await store.listActiveRuns()),
      ]);
      const results: CopyRunResult[] = [];
      for (const runId of [...runIds].sort()) {
        const result = await journalRun(runId);
        if (result.pushed > 0) logger?.info({ runId, pushed: result.pushed }, 'journal reconciled');
        results.push(result);
      }
      return results;
    },
  };
}
