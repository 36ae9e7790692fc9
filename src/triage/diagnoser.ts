import type { ExecutorContextFactory } from '../executors/registry/index.js';
import type { Logger } from '../logger.js';
import { type Diagnosis, diagnose, type ProbeSweep, type ReleaseInfo } from '../runbook/diagnose.js';
import { sweepProbes } from './probe-sweep.js';
import { DiagnoseCutOffError } from './triage-errors.js';

export interface DiagnoserOptions {
  /** DecisionGraph's API and Postgres; the caller owns (and closes) the factory. */
  readonly executors: ExecutorContextFactory;
  /** Told which probes could not run. */
  readonly logger: Logger;
  /** The whole sweep is cut off after this; calls still open then end as timeouts. @defaultValue 20000 */
  readonly timeoutMs?: number;
}

export interface DiagnoseRequest {
  /** Tenant whose projection health is read. @defaultValue the configured `DG_TENANT_ID` */
  readonly tenantId?: string;
  /**
   * The release the host runs, when the person asking knows it. With the recovery config's known-good release it
   * lets failing smoke checks be judged as a failed upgrade (or ruled out as one). @defaultValue unknown
   */
  readonly currentRelease?: string;
  /** Cancels the sweep (a person pressing Ctrl-C), on top of the timeout. */
  readonly signal?: AbortSignal;
}

/** A read-only probe sweep judged by the runbook's rules; a new sweep on every call. */
export type Diagnoser = (request?: DiagnoseRequest) => Promise<Diagnosis>;

/**
 * `diagnose` for every front end: {@link sweepProbes} under a deadline, then `diagnose` from the runbook. The
 * known-good release comes from the recovery config. Rejects with {@link DiagnoseCutOffError} when the deadline
 * passes or `request.signal` aborts first, and with the probes' own errors when a probe cannot run at all.
 */
export function createDiagnoser(options: DiagnoserOptions): Diagnoser {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return async (request = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
    const ctx = options.executors.forStep({
      runId: 'diagnose',
      ...(request.tenantId !== undefined ? { tenantId: request.tenantId } : {}),
      signal,
      logger: options.logger,
    });
    const cutOff = () => new DiagnoseCutOffError(deadline.aborted ? 'deadline' : 'cancelled', timeoutMs);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(cutOff());
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const sweeping = sweepProbes(ctx, { logger: options.logger });
    // A probe that ignores the signal must not hold the answer past the deadline; its late result is dropped.
    sweeping.catch(() => undefined);
    aborted.catch(() => undefined);
    let sweep: ProbeSweep;
    try {
      sweep = await Promise.race([sweeping, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
    // Calls cut by the signal come back as timeouts, which would read as a node that does not answer.
    if (signal.aborted) throw cutOff();
    const knownGood = ctx.recovery.release.previousKnownGood;
    const release: ReleaseInfo = {
      ...(request.currentRelease !== undefined ? { current: request.currentRelease } : {}),
      ...(knownGood !== undefined ? { knownGood } : {}),
    };
    return diagnose(Object.keys(release).length > 0 ? { ...sweep, release } : sweep);
  };
}
