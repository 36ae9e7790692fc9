import { type ExecutorContext, executeStep } from '../executors/registry/index.js';
import { type HealthVerdict, healthVerdict } from '../runbook/health-verdict.js';
import type { ChecklistMeasurement } from '../runbook/measurements.js';
import { readOnlyContext } from './read-only-context.js';

export interface HealthReading {
  /** Healthz, the tenant's projection health, the SQL facts (cursors ahead, open runs) and the known trace. */
  readonly measurement: ChecklistMeasurement;
  readonly verdict: HealthVerdict;
}

/**
 * The recovery checklist's reading now and its verdict, for `status`. Read-only: the known workflow is never read
 * (DecisionGraph refreshes its workflow tables on every workflow GET).
 */
export async function readHealth(ctx: ExecutorContext): Promise<HealthReading> {
  const measurement = await executeStep('gate.checklist', {}, readOnlyContext(ctx));
  const sql = measurement.sql;
  const verdict = healthVerdict({
    healthz: measurement.healthz,
    projectionHealth: measurement.projectionHealth,
    // SQL facts that could not be read stay absent, so the verdict lists them as unchecked instead of clean.
    ...(sql && sql.error === undefined
      ? {
          sql: {
            ...(sql.cursorAhead ? { cursorAhead: sql.cursorAhead } : {}),
            ...(sql.openRuns ? { openRuns: sql.openRuns } : {}),
          },
        }
      : {}),
  });
  return { measurement, verdict };
}
