import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/env.js';
import { redisClientOptions } from '../../../src/config/redis-connection.js';
import { ConfigInvalidError, ErrorCode } from '../../../src/errors.js';

const valid = {
  DG_BASE_URL: 'http://127.0.0.1:4100/',
  DG_API_TOKEN: 'reader-secret-value',
  DG_DATABASE_URL: 'postgres://dg_ro:pw-secret@127.0.0.1:5432/decisiongraph',
  DG_KNOWN_TRACE_ID: 'trace-0001',
  DATABASE_URL: 'postgres://bot@127.0.0.1:5432/dgbot',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig({ ...valid, ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as ConfigInvalidError).code).toBe(ErrorCode.ConfigInvalid);
    return [...(err as ConfigInvalidError).problems];
  }
  throw new Error('expected loadConfig to fail');
}

const pem = join(mkdtempSync(join(tmpdir(), 'redis-tls-unit-')), 'ca.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n');

describe('Redis TLS and Sentinel settings', () => {
  it('leaves a plain redis:// URL with no extra options', () => {
    const config = loadConfig(valid);
    expect(config.redis).toBeUndefined();
    expect(redisClientOptions(config.redisUrl, config.redis)).toEqual({});
  });

  it('turns TLS on for rediss:// and loads the CA file', () => {
    const config = loadConfig({ ...valid, REDIS_URL: 'rediss://cache.internal:6380', REDIS_TLS_CA_FILE: pem });
    const options = redisClientOptions(config.redisUrl, config.redis);
    expect(String((options.tls as { ca: Buffer }).ca)).toContain('not checked here');
    expect(redisClientOptions('rediss://cache.internal:6380', undefined).tls).toEqual({});
  });

  it('reads the sentinels and the master name', () => {
    const config = loadConfig({ ...valid, REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'dg' });
    expect(redisClientOptions(config.redisUrl, config.redis)).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'dg',
    });
  });

  it('names each bad variable, never its value', () => {
    expect(problemsOf({ REDIS_TLS_CA_FILE: pem })).toEqual(['REDIS_TLS_*: TLS files need a rediss:// REDIS_URL']);
    expect(problemsOf({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'REDIS_TLS_CA_FILE: is not a readable file',
    ]);
    expect(problemsOf({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CERT_FILE: pem })).toEqual([
      'REDIS_TLS_CERT_FILE: a client certificate and REDIS_TLS_KEY_FILE go together',
    ]);
    const badList = problemsOf({ REDIS_SENTINELS: '10.0.0.1:26379,secret-host', REDIS_SENTINEL_NAME: 'dg' });
    expect(badList).toHaveLength(1);
    expect(badList[0]).toMatch(/^REDIS_SENTINELS: must be host:port pairs/);
    expect(badList[0]).not.toContain('secret-host');
    expect(problemsOf({ REDIS_SENTINELS: '10.0.0.1:26379' })).toEqual([
      'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master name the sentinels watch)',
    ]);
    expect(problemsOf({ REDIS_SENTINEL_NAME: 'dg' })).toEqual([
      'REDIS_SENTINELS: is required with REDIS_SENTINEL_NAME',
    ]);
    expect(problemsOf({ REDIS_SENTINELS: '10.0.0.1:70000', REDIS_SENTINEL_NAME: 'dg' })[0]).toMatch(
      /^REDIS_SENTINELS:/,
    );
  });
});
