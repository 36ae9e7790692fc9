import type { Logger } from '../logger.js';
import type { RunDriver } from './run-driver.js';
import type { RunRecovery } from './run-log/index.js';

export interface ReconcileReport {
  /** Redis had lost its state (or this is the first start on it): unfinished runs were reloaded from the journal. */
  readonly redisWasEmpty: boolean;
  /** Runs put back into the live log from the journal. */
  readonly restored: readonly string[];
  /** Active runs looked at; each got whatever job it was missing. */
  readonly advanced: number;
  /** Runs that could not be advanced (their error is logged). */
  readonly failed: readonly string[];
  /** Events copied to the journal that its write-behind had not copied yet. */
  readonly journaled: number;
}

export interface ReconcilerOptions {
  readonly driver: RunDriver;
  /** Undefined when the journal is not available: nothing is restored or copied. */
  readonly recovery: RunRecovery | undefined;
  readonly logger: Logger;
  /** How often the sweep runs after the first; 0 runs it only on demand. @defaultValue 30000 */
  readonly intervalMs?: number;
}

export interface Reconciler {
  /** One sweep now; concurrent calls share it. */
  reconcile(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/**
 * Start-up and periodic repair: reloads unfinished runs from the journal after a Redis loss, gives every active run
 * the job the engine says it needs, then journals what the write-behind missed (docs/internals.md#reconciler).
 */
export function startReconciler(options: ReconcilerOptions): Reconciler {
  const { driver, recovery } = options;
  const logger = options.logger.child({ component: 'reconciler' });
  let running: Promise<ReconcileReport> | undefined;
  let closed = false;

  const sweep = async (): Promise<ReconcileReport> => {
    let restored: string[] | undefined;
    try {
      restored = await driver.restoreIfRedisLost();
    } catch (err) {
      logger.warn({ err }, 'could not reload runs from the journal');
    }
    await driver.continuePendingSwitches().catch((err: unknown) => logger.warn({ err }, 'switched runs not started'));
    const failed: string[] = [];
    const active = await driver.store.listActiveRuns();
    for (const runId of active) {
      try {
        await driver.advance(runId);
      } catch (err) {
        failed.push(runId);
        logger.error({ runId, err }, 'could not advance run');
      }
    }
    let journaled = 0;
    if (recovery) {
      try {
        journaled = (await recovery.reconcileJournal()).reduce((n, r) => n + r.pushed, 0);
      } catch (err) {
        logger.warn({ err }, 'journal not reconciled; the write-behind keeps retrying');
      }
    }
    return {
      redisWasEmpty: restored !== undefined,
      restored: restored ?? [],
      advanced: active.length - failed.length,
      failed,
      journaled,
    };
  };

  const reconcile = (): Promise<ReconcileReport> => {
    running ??= sweep().finally(() => {
      running = undefined;
    });
    return running;
  };

  const intervalMs = options.intervalMs ?? 30_000;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (closed) return;
          reconcile().catch((err: unknown) => logger.warn({ err }, 'reconcile sweep failed'));
        }, intervalMs)
      : undefined;
  timer?.unref();

  return {
    reconcile,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
