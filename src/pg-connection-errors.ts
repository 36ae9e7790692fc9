import type pg from 'pg';

/** Error as pg hands it over: a socket error (`ECONNRESET`) or a server message (`57P01` admin shutdown). */
export type ConnectionError = Error & { code?: string };

/**
 * Makes a dead connection of `pool` a report instead of a crash, whether it was idle or checked out.
 *
 * pg reports a connection that dies as an `error` event on its client. The pool listens only while the client is
 * idle; while it is checked out (a transaction in progress) nobody does, and Node turns the unheard event into an
 * uncaught exception. Postgres going away, or an administrator terminating the session, would then kill the
 * process instead of failing one query. So every client gets its own listener for its whole life; the query in
 * flight still fails on its own and its caller decides what to do. Each dead connection is reported once; the
 * pool's own idle-client event is heard (the pool would throw without a listener) but not reported again.
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
