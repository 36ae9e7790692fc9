import { accessSync, constants, readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';

/** How to reach Redis beyond its URL: TLS files for `rediss://`, and Sentinel. */
export interface RedisConnection {
  /** PEM files for `rediss://`: a private CA, and a client certificate with its key. @defaultValue undefined */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /** Sentinels asked for the current master of `name`; the URL's host and port are then unused. */
  readonly sentinel?: { readonly sentinels: readonly { host: string; port: number }[]; readonly name: string };
}

/** The environment variables read here, each optional. */
export interface RedisConnectionEnv {
  readonly REDIS_URL?: string | undefined;
  readonly REDIS_TLS_CA_FILE?: string | undefined;
  readonly REDIS_TLS_CERT_FILE?: string | undefined;
  readonly REDIS_TLS_KEY_FILE?: string | undefined;
  readonly REDIS_SENTINELS?: string | undefined;
  readonly REDIS_SENTINEL_NAME?: string | undefined;
}

const TLS_FILES = ['REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'] as const;

/** Reads the TLS and Sentinel variables: the connection, or one problem line per bad variable, never a value. */
export function parseRedisConnection(env: RedisConnectionEnv): { connection: RedisConnection; problems: string[] } {
  const problems: string[] = [];
  const set = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
  const files = Object.fromEntries(TLS_FILES.map((name) => [name, set(env[name])]));
  const anyTls = TLS_FILES.some((name) => files[name] !== undefined);
  if (anyTls && !(env.REDIS_URL ?? '').startsWith('rediss://')) {
    problems.push('REDIS_TLS_*: TLS files need a rediss:// REDIS_URL');
  }
  for (const name of TLS_FILES) {
    const path = files[name];
    if (path !== undefined && !readable(path)) problems.push(`${name}: is not a readable file`);
  }
  if ((files.REDIS_TLS_CERT_FILE === undefined) !== (files.REDIS_TLS_KEY_FILE === undefined)) {
    problems.push('REDIS_TLS_CERT_FILE: a client certificate and REDIS_TLS_KEY_FILE go together');
  }

  const sentinelList = set(env.REDIS_SENTINELS);
  const sentinelName = set(env.REDIS_SENTINEL_NAME);
  const sentinels = sentinelList?.split(',').map((entry) => parseHostPort(entry.trim()));
  if (sentinels?.some((s) => s === undefined)) {
    problems.push('REDIS_SENTINELS: must be host:port pairs separated by commas, e.g. 10.0.0.1:26379,10.0.0.2:26379');
  }
  if (sentinelList !== undefined && sentinelName === undefined) {
    problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master name the sentinels watch)');
  }
  if (sentinelName !== undefined && sentinelList === undefined) {
    problems.push('REDIS_SENTINELS: is required with REDIS_SENTINEL_NAME');
  }

  const tls = anyTls
    ? {
        ...(files.REDIS_TLS_CA_FILE ? { caFile: files.REDIS_TLS_CA_FILE } : {}),
        ...(files.REDIS_TLS_CERT_FILE ? { certFile: files.REDIS_TLS_CERT_FILE } : {}),
        ...(files.REDIS_TLS_KEY_FILE ? { keyFile: files.REDIS_TLS_KEY_FILE } : {}),
      }
    : undefined;
  const good = sentinels?.filter((s): s is { host: string; port: number } => s !== undefined);
  const sentinel =
    good && sentinelName && good.length === sentinels?.length ? { sentinels: good, name: sentinelName } : undefined;
  return { connection: { ...(tls ? { tls } : {}), ...(sentinel ? { sentinel } : {}) }, problems };
}

/**
 * The ioredis options to pass beside the URL. The URL still gives the password and database; with `rediss://`
 * the master (found directly or through the sentinels) is reached over TLS.
 */
export function redisClientOptions(url: string, connection: RedisConnection | undefined): RedisOptions {
  const options: RedisOptions = {};
  const tlsUrl = url.startsWith('rediss://');
  if (tlsUrl) {
    const files = connection?.tls ?? {};
    options.tls = {
      ...(files.caFile ? { ca: readFileSync(files.caFile) } : {}),
      ...(files.certFile ? { cert: readFileSync(files.certFile) } : {}),
      ...(files.keyFile ? { key: readFileSync(files.keyFile) } : {}),
    };
  }
  if (connection?.sentinel) {
    options.sentinels = connection.sentinel.sentinels.map((s) => ({ ...s }));
    options.name = connection.sentinel.name;
    if (tlsUrl) options.enableTLSForSentinelMode = true;
  }
  return options;
}

function parseHostPort(entry: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
  if (!match?.[1] || !match[2]) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
