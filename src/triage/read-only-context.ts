import type { ExecutorContext } from '../executors/registry/index.js';

/**
 * The executors' context without the deployment's known workflow, so no triage probe reads one: DecisionGraph
 * refreshes its workflow tables on every workflow GET, and triage must not write.
 */
export function readOnlyContext(ctx: ExecutorContext): ExecutorContext {
  return { ...ctx, known: { traceId: ctx.known.traceId, workflowId: undefined } };
}
