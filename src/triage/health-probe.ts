import type { ExecutorContextFactory } from '../executors/registry/index.js';
import { type HealthReading, readHealth } from './index.js';

/**
 * DecisionGraph's health for `/dg status`: the recovery checklist's reading and verdict through the triage module,
 * as the terminal's `status` reads it (read-only: healthz, the tenant's projection health, the SQL facts, the
 * known trace). The HTTP calls give up at `timeoutMs`; the listener bounds the whole probe as well.
 */
export function createHealthProbe(executors: ExecutorContextFactory, timeoutMs = 5000): () => Promise<HealthReading> {
  return () => readHealth(executors.forStep({ runId: 'status', signal: AbortSignal.timeout(timeoutMs) }));
}
