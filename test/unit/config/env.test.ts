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
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigInvalidError);
    expect((err as ConfigInvalidError).code).toBe(ErrorCode.ConfigInvalid);
    return [...(err as ConfigInvalidError).problems];
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('applies the documented defaults and strips a trailing slash from the base URL', () => {
    const config = loadConfig(valid);
    expect(config.decisionGraph.baseUrl).toBe('http://127.0.0.1:4100');
    expect(config.decisionGraph.tenantId).toBe('default');
    expect(config.decisionGraph.adminToken).toBeUndefined();
    expect(config.decisionGraph.knownWorkflowId).toBeUndefined();
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.port).toBe(3000);
    expect(config.recoveryConfigPath).toBeUndefined();
  });

  it('returns a frozen object, nested parts included', () => {
    const config = loadConfig(valid);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.decisionGraph)).toBe(true);
    expect(Object.isFrozen(config.slack)).toBe(true);
  });

  it('treats empty optional values as unset', () => {
    const config = loadConfig({ ...valid, DG_ADMIN_TOKEN: '', SLACK_API_URL: '', DG_KNOWN_WORKFLOW_ID: '' });
    expect(config.decisionGraph.adminToken).toBeUndefined();
    expect(config.slack.apiUrl).toBeUndefined();
    expect(config.decisionGraph.knownWorkflowId).toBeUndefined();
  });

  it('names every missing variable on its own line', () => {
    const problems = problemsOf({});
    for (const name of ['DG_BASE_URL', 'DG_API_TOKEN', 'DG_DATABASE_URL', 'DG_KNOWN_TRACE_ID', 'DATABASE_URL']) {
      expect(problems).toContainEqual(`${name}: is required`);
    }
    expect(problems).toHaveLength(5);
  });

  it('rejects malformed values without echoing them', () => {
    const env = {
      ...valid,
      DG_BASE_URL: 'ftp://secret-host-name',
      DG_API_TOKEN: '',
      DATABASE_URL: 'mysql://user:hunter2@db/x',
      PORT: '99999',
      REDIS_URL: 'http://not-redis',
    };
    const problems = problemsOf(env);
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'DG_API_TOKEN',
      'DG_BASE_URL',
      'PORT',
      'REDIS_URL',
    ]);
    const text = problems.join('\n');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('secret-host-name');
    expect(text).not.toContain('99999');
  });

  it('reads METRICS_PORT as a port, none when unset or empty, and names it when malformed', () => {
    expect(loadConfig(valid).metricsPort).toBeUndefined();
    expect(loadConfig({ ...valid, METRICS_PORT: '' }).metricsPort).toBeUndefined();
    expect(loadConfig({ ...valid, METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(problemsOf({ ...valid, METRICS_PORT: 'metrics' })).toEqual(['METRICS_PORT: must be a port number']);
    expect(problemsOf({ ...valid, METRICS_PORT: '70000' })).toEqual(['METRICS_PORT: must be a port number']);
  });

  it('turns the alert intake on with both its token and its channel, and names the missing channel', () => {
    expect(loadConfig(valid).alerts).toBeUndefined();
    expect(loadConfig({ ...valid, ALERT_WEBHOOK_TOKEN: 'tok-secret', ALERT_CHANNEL: 'C0ALERTS' }).alerts).toEqual({
      token: 'tok-secret',
      pagerDutySecret: undefined,
      channel: 'C0ALERTS',
    });
    expect(loadConfig({ ...valid, PAGERDUTY_WEBHOOK_SECRET: 'pd-secret', ALERT_CHANNEL: 'C0ALERTS' }).alerts).toEqual({
      token: undefined,
      pagerDutySecret: 'pd-secret',
      channel: 'C0ALERTS',
    });
    expect(problemsOf({ ...valid, PAGERDUTY_WEBHOOK_SECRET: 'pd-secret' })).toEqual([
      'ALERT_CHANNEL: is required when PAGERDUTY_WEBHOOK_SECRET is set (the channel alerts are posted in)',
    ]);
    expect(problemsOf({ ...valid, ALERT_WEBHOOK_TOKEN: 'tok-secret' })).toEqual([
      'ALERT_CHANNEL: is required when ALERT_WEBHOOK_TOKEN is set (the channel alerts are posted in)',
    ]);
    expect(problemsOf({ ...valid, ALERT_WEBHOOK_TOKEN: 'tok-secret', ALERT_CHANNEL: '#alerts' })).toEqual([
      'ALERT_CHANNEL: must be a Slack channel id such as C0123ABCD',
    ]);
  });

  it('reads nothing but the record it is given', () => {
    process.env.DG_BASE_URL = 'http://from-process-env:1';
    try {
      expect(problemsOf({})).toContainEqual('DG_BASE_URL: is required');
    } finally {
      delete process.env.DG_BASE_URL;
    }
  });
});

describe('approval timeout', () => {
  it('defaults to 60 minutes, takes APPROVAL_TIMEOUT_MINUTES, and must outlast the reminder', () => {
    expect(loadConfig(valid).approvalTimeoutMinutes).toBe(60);
    expect(loadConfig({ ...valid, APPROVAL_TIMEOUT_MINUTES: '45' }).approvalTimeoutMinutes).toBe(45);
    expect(problemsOf({ ...valid, APPROVAL_TIMEOUT_MINUTES: '0' })).toEqual([
      'APPROVAL_TIMEOUT_MINUTES: must be at least 1 minute',
    ]);
    expect(problemsOf({ ...valid, APPROVAL_TIMEOUT_MINUTES: 'an hour' })).toEqual([
      'APPROVAL_TIMEOUT_MINUTES: must be a whole number of minutes',
    ]);
    expect(problemsOf({ ...valid, APPROVAL_TIMEOUT_MINUTES: '10', APPROVAL_REMINDER_MINUTES: '10' })).toEqual([
      'APPROVAL_TIMEOUT_MINUTES: must be longer than APPROVAL_REMINDER_MINUTES',
    ]);
  });
});

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
    expect(problemsOf({ ...valid, REDIS_TLS_CA_FILE: pem })).toEqual([
      'REDIS_TLS_*: TLS files need a rediss:// REDIS_URL',
    ]);
    expect(problemsOf({ ...valid, REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'REDIS_TLS_CA_FILE: is not a readable file',
    ]);
    expect(problemsOf({ ...valid, REDIS_URL: 'rediss://h:6380', REDIS_TLS_CERT_FILE: pem })).toEqual([
      'REDIS_TLS_CERT_FILE: a client certificate and REDIS_TLS_KEY_FILE go together',
    ]);
    const badList = problemsOf({ ...valid, REDIS_SENTINELS: '10.0.0.1:26379,secret-host', REDIS_SENTINEL_NAME: 'dg' });
    expect(badList).toHaveLength(1);
    expect(badList[0]).toMatch(/^REDIS_SENTINELS: must be host:port pairs/);
    expect(badList[0]).not.toContain('secret-host');
    expect(problemsOf({ ...valid, REDIS_SENTINELS: '10.0.0.1:26379' })).toEqual([
      'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS (the master name the sentinels watch)',
    ]);
    expect(problemsOf({ ...valid, REDIS_SENTINEL_NAME: 'dg' })).toEqual([
      'REDIS_SENTINELS: is required with REDIS_SENTINEL_NAME',
    ]);
    expect(problemsOf({ ...valid, REDIS_SENTINELS: '10.0.0.1:70000', REDIS_SENTINEL_NAME: 'dg' })[0]).toMatch(
      /^REDIS_SENTINELS:/,
    );
  });
});
