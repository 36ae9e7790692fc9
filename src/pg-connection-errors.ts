import type pg from 'pg';

/** Error as pg hands it over: a socket error (`ECONNRESET`) or a server message (`57P01` admin shutdown). */
export type ConnectionError = Error & { code?: string };

/**
 * Makes a dead connection of `pool` a report instead of a crash, whether it was idle or checked out: each client
 * has its own `error` listener for its whole life, and reports once (docs/internals.md#pg-connection-errors).
 */
export function reportConnectionErrors(pool: pg.Pool, report: (err: ConnectionError) => void = () => undefined): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    // A dying connection often speaks twice (the server's FATAL, then the socket closing): one report is enough.
    let reported = false;
    client.on('error', (err: ConnectionError) => {
      if (reported) return;
      reported = true;
      report(err);
    });
  });
}
