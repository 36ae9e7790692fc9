import { type ExecutorContextFactory, executeStep } from '../jobs/executors/index.js';
import { codeSpan } from './slack-text.js';

/**
 * DecisionGraph's health at a glance for `/dg status`: one read-only `GET /api/healthz`. healthz answers 200 even
 * with Postgres down, so what it says about projection health and the repo is shown next to the status.
 */
export function createHealthLine(executors: ExecutorContextFactory, timeoutMs = 5000): () => Promise<string> {
  return async () => {
    const ctx = executors.forStep({ runId: 'status', signal: AbortSignal.timeout(timeoutMs) });
    const m = await executeStep('dg.healthz', {}, ctx);
    if (!m.ok) return `DecisionGraph: healthz did not answer (${codeSpan(m.error.code, 60)})`;
    const ph = m.data.projection_health;
    const projections =
      'status' in ph && ph.status === 'unavailable' ? `unavailable (${codeSpan(ph.reason, 80)})` : 'available';
    const repo = m.data.store['repo_started?'] ? 'started' : 'not started';
    return (
      `DecisionGraph: healthz HTTP ${m.evidence.status ?? '?'}, projection health ${projections}, repo ${repo}, ` +
      `${m.data.projector.active_replay_jobs} replay job(s) running`
    );
  };
}
