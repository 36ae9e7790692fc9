import type { ApiRequest, Reply } from '../http/router.js';
import { projectionHealth } from '../projector/health.js';
import { PROJECTIONS } from '../projector/names.js';
import { brokenRelease, type SimContext } from '../runtime/context.js';

/** `GET /api/healthz`: 200 whenever the snapshot builds; a database failure only shows inside `projection_health`. */
export async function healthz(_req: ApiRequest, ctx: SimContext): Promise<Reply> {
  let health: Record<string, unknown>;
  try {
    health = await projectionHealth(ctx.pool, 'default', { brokenRelease: brokenRelease(ctx.host) });
  } catch (err) {
    health = { status: 'unavailable', reason: (err as Error).message };
  }
  return {
    status: 200,
    raw: {
      auth: {
        bootstrap_source: ctx.registry.bootstrapSource,
        configured_accounts: ctx.registry.configuredAccounts,
        operator_console_account_id: ctx.registry.operatorConsoleAccountId,
      },
      deployment_env: ctx.deploymentEnv,
      observability: {
        logger_metadata_keys: ['request_id', 'trace_id', 'tenant_id', 'projection', 'worker'],
        otel_service_name: 'decisiongraph-beam',
      },
      projection_health: health,
      projector: {
        active_replay_jobs: ctx.node.coordinator.activeCount,
        active_workers: ctx.node.workers.activeCount,
        partition_count: 8,
        projections: [...PROJECTIONS],
      },
      store: {
        database: ctx.store.database,
        hostname: ctx.store.hostname,
        maintenance_database: 'postgres',
        pool_size: 10,
        projection_names: [...PROJECTIONS],
        'repo_started?': true,
        telemetry_prefix: ['decision_graph', 'repo'],
      },
    },
  };
}

/** `GET /api/v1/projections/health` for the caller's tenant. */
export async function projectionsHealth(req: ApiRequest, ctx: SimContext): Promise<Reply> {
  const data = await projectionHealth(ctx.pool, req.principal.tenantId, { brokenRelease: brokenRelease(ctx.host) });
  return { status: 200, data };
}
