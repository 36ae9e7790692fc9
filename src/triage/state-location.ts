import type { Config } from '../config/env.js';
import { DEFAULT_PREFIX } from '../key-prefix.js';

// Where the bot keeps its state, for `status` (terminal and Slack) and the start-up log. Hosts, ports and database
// names only: a URL's user and password never leave this module.

/** The server and database a URL names, without its user, password or options. */
export interface ServerAddress {
  /** `host:port`, the port defaulted when the URL has none. */
  readonly server: string;
  /** The path of the URL without its leading slash (Postgres: the database); empty when there is none. */
  readonly path: string;
}

/**
 * `host:port` and the path of a URL, never its user or password; `undefined` when it does not parse. A `host`
 * query parameter (how libpq URLs name a Unix socket directory or a host) wins over the URL's host.
 */
export function serverOf(url: string, defaultPort: string): ServerAddress | undefined {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') || u.hostname || 'localhost';
    return { server: `${host}:${u.port || defaultPort}`, path: decodeURIComponent(u.pathname.replace(/^\//, '')) };
  } catch {
    return undefined;
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function splitServer(server: string): [host: string, port: string] {
  const i = server.lastIndexOf(':');
  return [server.slice(0, i), server.slice(i + 1)];
}

/** Same host (every loopback spelling counts as one) and same port. */
export function sameServer(a: string, b: string): boolean {
  const [ha, pa] = splitServer(a);
  const [hb, pb] = splitServer(b);
  const host = (h: string) => (LOOPBACK.has(h.toLowerCase()) ? 'loopback' : h.toLowerCase());
  return host(ha) === host(hb) && pa === pb;
}

export interface StateLocationOptions {
  /** Prefix of the deployment's Redis keys and queues. @defaultValue `dgr:` */
  readonly prefix?: string;
  /** Postgres schema of the journal tables. @defaultValue `dg_recovery` (the journal's default) */
  readonly journalSchema?: string;
}

export interface StateLocation {
  /** The live run logs and step jobs: Redis `host:port` (undefined when `REDIS_URL` does not parse) and key prefix. */
  readonly liveLog: { readonly server: string | undefined; readonly prefix: string };
  /** The durable journal of every run: Postgres `host:port`, database and schema. */
  readonly journal: {
    readonly server: string | undefined;
    readonly database: string | undefined;
    readonly schema: string;
  };
  /** DecisionGraph's Postgres `host:port`. */
  readonly decisionGraphDatabase: string | undefined;
  /**
   * The journal and DecisionGraph's database are on one Postgres server. The postgres scenario is exactly that
   * server being down: runs go on from Redis, but nothing durable is written until it is back.
   */
  readonly sharesServerWithDecisionGraph: boolean;
}

/** Where the bot's state lives according to the configuration. */
export function stateLocation(config: Config, options: StateLocationOptions = {}): StateLocation {
  const redis = serverOf(config.redisUrl, '6379');
  const journal = serverOf(config.databaseUrl, '5432');
  const dg = serverOf(config.decisionGraph.databaseUrl, '5432');
  return {
    liveLog: { server: redis?.server, prefix: options.prefix ?? DEFAULT_PREFIX },
    journal: { server: journal?.server, database: journal?.path, schema: options.journalSchema ?? 'dg_recovery' },
    decisionGraphDatabase: dg?.server,
    sharesServerWithDecisionGraph: journal !== undefined && dg !== undefined && sameServer(journal.server, dg.server),
  };
}

function sharedWarning(location: StateLocation): string {
  return (
    `Warning: the journal shares a server with DecisionGraph's database (Postgres ${location.journal.server}). ` +
    'While that server is down, runs go on from Redis and are journaled only once it is back; a separate server ' +
    'keeps the record durable during the outage.'
  );
}

/** One line per store, then the shared-server warning when it applies; for the terminal. */
export function describeStateLocation(location: StateLocation): string[] {
  const { liveLog, journal } = location;
  const lines = [
    `Live run logs and step jobs: Redis ${liveLog.server ?? '(unparsable REDIS_URL)'}, key prefix ${liveLog.prefix}`,
    `Journal of every run: Postgres ${
      journal.server !== undefined ? `${journal.server}/${journal.database ?? ''}` : '(unparsable DATABASE_URL)'
    }, schema ${journal.schema}`,
  ];
  if (location.sharesServerWithDecisionGraph) lines.push(sharedWarning(location));
  return lines;
}

/** The same facts as one paragraph; for Slack's `/dg status` and the bot's start-up log. */
export function stateLocationNote(location: StateLocation): string {
  const { liveLog, journal } = location;
  const note =
    `Run state: live logs and jobs in Redis at ${liveLog.server ?? 'an unparsable REDIS_URL'}, journal in Postgres ` +
    `at ${journal.server ?? 'an unparsable DATABASE_URL'}.`;
  return location.sharesServerWithDecisionGraph ? `${note} ${sharedWarning(location)}` : note;
}
