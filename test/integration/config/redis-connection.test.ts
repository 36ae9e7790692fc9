import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { redisClientOptions } from '../../../src/config/redis-connection.js';
import { readRedisPersistence } from '../../../src/triage/index.js';
import { type OwnRedis, startOwnRedis } from '../../helpers/own-redis.js';

// Real servers of the test's own on spare ports: a TLS-only redis-server with a CA made here by openssl, and a
// sentinel watching a plain master. The shared Redis on 6379 is never touched.

const base = {
  DG_BASE_URL: 'http://127.0.0.1:4100',
  DG_API_TOKEN: 'reader-secret-value',
  DG_DATABASE_URL: 'postgres://dg_ro:pw@127.0.0.1:5432/decisiongraph',
  DG_KNOWN_TRACE_ID: 'trace-0001',
  DATABASE_URL: 'postgres://bot@127.0.0.1:5432/dgbot',
};

/** A CA and a server certificate for 127.0.0.1 signed by it, valid for a day. */
function makeCertificates(): { caFile: string; certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.crt'),
    '-days',
    '1',
    '-subj',
    '/CN=dg-recovery test CA',
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(at('ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.crt'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.crt'),
    '-days',
    '1',
    '-extfile',
    at('ext'),
  );
  return { caFile: at('ca.crt'), certFile: at('server.crt'), keyFile: at('server.key') };
}

describe('Redis over TLS (rediss://)', () => {
  let server: OwnRedis;
  let caFile: string;

  beforeAll(async () => {
    const files = makeCertificates();
    caFile = files.caFile;
    server = await startOwnRedis({ tls: files });
  }, 60_000);

  afterAll(async () => {
    await server?.kill();
  });

  it('connects with the CA from REDIS_TLS_CA_FILE, for ioredis and BullMQ alike', async () => {
    const config = loadConfig({ ...base, REDIS_URL: server.url, REDIS_TLS_CA_FILE: caFile });
    expect(config.redisUrl.startsWith('rediss://')).toBe(true);
    const redis = new Redis(config.redisUrl, {
      ...redisClientOptions(config.redisUrl, config.redis),
      maxRetriesPerRequest: null,
    });
    try {
      await redis.set('tls-probe', 'over-tls');
      expect(await redis.get('tls-probe')).toBe('over-tls');
      const queue = new Queue('tls-check', { connection: redis });
      await queue.add('probe', { n: 1 });
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
      await queue.close();
      expect(await readRedisPersistence(config.redisUrl, 5000, redisClientOptions(config.redisUrl, config.redis))).toBe(
        'none',
      );
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a server its CA did not sign: without the CA file nothing is read', async () => {
    expect(await readRedisPersistence(server.url, 5000, redisClientOptions(server.url, undefined))).toBe('unknown');
  });
});

describe('Redis through Sentinel', () => {
  let master: OwnRedis;
  let sentinel: OwnRedis;

  beforeAll(async () => {
    master = await startOwnRedis();
    sentinel = await startOwnRedis({ sentinelOf: { port: master.port, name: 'dg-master' } });
  }, 60_000);

  afterAll(async () => {
    await sentinel?.kill();
    await master?.kill();
  });

  it('asks the sentinels for the master and writes there, whatever host the URL names', async () => {
    const config = loadConfig({
      ...base,
      REDIS_URL: 'redis://unused.invalid:6379/0',
      REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
      REDIS_SENTINEL_NAME: 'dg-master',
    });
    const viaSentinel = new Redis(config.redisUrl, redisClientOptions(config.redisUrl, config.redis));
    const direct = new Redis(master.url);
    try {
      await viaSentinel.set('sentinel-probe', 'reached-master');
      expect(await direct.get('sentinel-probe')).toBe('reached-master');
    } finally {
      viaSentinel.disconnect();
      direct.disconnect();
    }
  });
});
