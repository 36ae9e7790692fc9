import { quoteIdent, withAdmin } from '../db/database.js';
import type { FaultHost, FaultSwitch } from './fault-host.js';

/**
 * Postgres becomes unreachable for DecisionGraph's database, for real: new connections are refused
 * (`ALLOW_CONNECTIONS false`, which binds superusers too) and every open session is terminated. Clearing allows
 * connections again; pools reconnect on their next query.
 */
export const postgresDown: FaultSwitch = {
  async inject(h: FaultHost) {
    await withAdmin(h.adminUrl, async (c) => {
      await c.query(`ALTER DATABASE ${quoteIdent(h.databaseName)} ALLOW_CONNECTIONS false`);
      await c.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [h.databaseName],
      );
    });
    return null;
  },
  async clear(h: FaultHost) {
    await withAdmin(h.adminUrl, (c) => c.query(`ALTER DATABASE ${quoteIdent(h.databaseName)} ALLOW_CONNECTIONS true`));
  },
};
