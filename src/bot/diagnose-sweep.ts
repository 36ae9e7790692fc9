import { type ExecutorContextFactory, executeStep } from '../jobs/executors/index.js';
import type { Logger } from '../logger.js';
import { type Diagnosis, diagnose, type ProbeSweep } from '../runbook/diagnose.js';

export interface DiagnoserOptions {
  readonly executors: ExecutorContextFactory;
  readonly logger: Logger;
  /** The whole sweep is cut off after this. @defaultValue 20000 */
  readonly timeoutMs?: number;
}

/**
 * `/dg diagnose`: a read-only sweep (healthz, the tenant's projection health, `SELECT 1`, the SQL integrity checks
 * and the event log's size) judged by the runbook's rules. Nothing that writes is called: no replay, no workflow
 * read, no smoke test (DecisionGraph's smoke test requests a replay).
 */
export function createDiagnoser(options: DiagnoserOptions): () => Promise<Diagnosis> {
  return async () => {
    const ctx = options.executors.forStep({
      runId: 'diagnose',
      signal: AbortSignal.timeout(options.timeoutMs ?? 20_000),
    });
    const [healthz, projectionHealth, sqlReach] = await Promise.all([
      executeStep('dg.healthz', {}, ctx),
      executeStep('dg.projection_health', {}, ctx),
      executeStep('sql.reach', {}, ctx),
    ]);
    const sweep: { -readonly [K in keyof ProbeSweep]: ProbeSweep[K] } = { healthz, projectionHealth, sqlReach };
    if (projectionHealth.ok) sweep.openRuns = projectionHealth.data.open_runs;
    if (sqlReach.reachable) {
      // A probe that fails is left out of the sweep; the verdict then says what was not measured.
      const [integrity, parity] = await Promise.allSettled([
        executeStep('sql.integrity', {}, ctx),
        executeStep('sql.parity', {}, ctx),
      ]);
      if (integrity.status === 'fulfilled') sweep.integrity = integrity.value;
      else options.logger.warn({ err: integrity.reason }, 'integrity probes failed during diagnose');
      if (parity.status === 'fulfilled') sweep.parity = { current: parity.value };
    }
    return diagnose(sweep);
  };
}
