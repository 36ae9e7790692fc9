import type pg from 'pg';

/**
 * Makes a dead connection of `pool` fail its query instead of crashing the process, idle or checked out.
 *
 * pg reports a connection that dies as an `error` event on its client. The pool listens only while the client is
 * idle; while it is checked out (a transaction in progress) nobody does, and Node turns the unheard event into an
 * uncaught exception. The postgres-down fault terminates every session, so each client gets a listener for its
 * whole life; the query in flight still fails on its own and its caller answers as DecisionGraph would.
 */
export function surviveConnectionLoss(pool: pg.Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
}
