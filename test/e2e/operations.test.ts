import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/bot/bot.js';
import { parseRecoveryConfig } from '../../src/config/recovery-config.js';
import { createLogger } from '../../src/logger.js';
import { ANA, E2E } from './harness.js';

// What an SRE's Prometheus and load balancer see: health, readiness naming the failing part, and metrics that move
// with a run, on Slack's port and on METRICS_PORT.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down', 'projections-behind'] }, bot: { metricsPort: 0 } });
});

afterAll(async () => {
  await e2e?.close();
});

const slackPort = () => `http://127.0.0.1:${e2e.bot.port}`;
const metricsPort = () => `http://127.0.0.1:${e2e.bot.metricsPort}`;

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** The value of one series in Prometheus text, e.g. `dg_recovery_runs_started_total{scenario="restart"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health and readiness', () => {
  it('answers /healthz on both ports', async () => {
    for (const base of [slackPort(), metricsPort()]) {
      const health = await get(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(health.type).toContain('application/json');
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    }
  });

  it('answers 503 naming Slack while auth.test fails, then 200 with every part ok', async () => {
    e2e.fake.queueError('auth.test', 'invalid_auth');
    const failing = await get(`${slackPort()}/readyz`);
    expect(failing.status).toBe(503);
    expect(JSON.parse(failing.body)).toMatchObject({
      status: 'not ready',
      failing: ['slack'],
      parts: { redis: 'ok', journal: 'ok' },
    });
    expect(JSON.parse(failing.body).parts.slack).toContain('invalid_auth');

    const ready = await get(`${metricsPort()}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ready',
      failing: [],
      parts: { redis: 'ok', journal: 'ok', slack: 'ok' },
    });
  });

  it('answers 404 on the metrics port for anything else, and has no alert route without ALERT_WEBHOOK_TOKEN', async () => {
    expect((await get(`${metricsPort()}/slack/events`)).status).toBe(404);
    const hook = await fetch(`${slackPort()}/hooks/alertmanager`, { method: 'POST', body: '{}' });
    expect(hook.status).toBe(404);
  });
});

describe('/metrics', () => {
  it('is Prometheus text whose counters and gauges move with a run', async () => {
    const before = await get(`${slackPort()}/metrics`);
    expect(before.status).toBe(200);
    expect(before.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(before.body).toContain('# TYPE dg_recovery_runs_started_total counter');
    expect(before.body).toContain('dg_recovery_process_resident_memory_bytes');
    expect(sample(before.body, 'dg_recovery_runs_started_total{scenario="restart"}')).toBeUndefined();
    expect(sample(before.body, 'dg_recovery_people_waits{kind="decision"}')).toBe(0);

    // Slack fails the thread's first post once: the outbox retries, the error is counted.
    e2e.fake.queueHttpError('chat.postMessage', 500);
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    await expect
      .poll(async () => (await e2e.bot.runtime.service.get(runId))?.state.status, { timeout: 20_000 })
      .toBe('waiting_decision');

    const waiting = (await get(`${metricsPort()}/metrics`)).body;
    expect(sample(waiting, 'dg_recovery_runs_started_total{scenario="restart"}')).toBe(1);
    expect(sample(waiting, 'dg_recovery_people_waits{kind="decision"}')).toBe(1);
    expect(sample(waiting, 'dg_recovery_people_wait_oldest_seconds{kind="decision"}')).toBeGreaterThanOrEqual(0);
    expect(sample(waiting, 'dg_recovery_slack_errors_total{method="chat.postMessage",kind="http_error"}')).toBe(1);
    expect(sample(waiting, 'dg_recovery_dg_calls_total{endpoint="GET /api/healthz",status="none"}')).toBeGreaterThan(0);
    expect(sample(waiting, 'dg_recovery_queue_jobs{queue="steps",state="failed"}')).toBe(0);
    expect(
      sample(waiting, 'dg_recovery_step_duration_seconds_count{executor="host.restart_runtime",result="passed"}'),
    ).toBe(1);

    const aborted = await e2e.bot.runtime.service.abort(runId, {
      actor: { id: ANA.id, name: ANA.name, via: 'slack' },
      reason: 'metrics test',
    });
    expect(aborted.ok).toBe(true);
    await expect
      .poll(
        async () =>
          sample(
            (await get(`${slackPort()}/metrics`)).body,
            'dg_recovery_runs_finished_total{scenario="restart",outcome="aborted"}',
          ),
        { timeout: 20_000 },
      )
      .toBe(1);
    const after = (await get(`${slackPort()}/metrics`)).body;
    expect(sample(after, 'dg_recovery_run_duration_seconds_count{scenario="restart",outcome="aborted"}')).toBe(1);
    expect(sample(after, 'dg_recovery_people_waits{kind="decision"}')).toBe(0);
    expect(sample(after, 'dg_recovery_journal_lag_events')).toBeGreaterThanOrEqual(0);
  }, 60_000);
});

describe('a workers-only process', () => {
  it('serves health, readiness without Slack, and metrics on METRICS_PORT alone', async () => {
    const workers = await startBot(e2e.config, parseRecoveryConfig('{}', 'workers.yaml', {}), {
      logger: createLogger({ level: 'silent' }),
      role: 'workers',
      // A queue of its own: this process must not take the other bot's steps.
      prefix: `dgops-${randomBytes(4).toString('hex')}:`,
      metricsPort: 0,
      runtime: { reconcileIntervalMs: 0, executorDeps: { requireReadOnlyRole: false } },
    });
    try {
      expect(workers.port).toBeUndefined();
      const base = `http://127.0.0.1:${workers.metricsPort}`;
      expect((await get(`${base}/healthz`)).status).toBe(200);
      const ready = await get(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body).parts).toEqual({ redis: 'ok', journal: 'ok' });
      const scraped = await get(`${base}/metrics`);
      expect(sample(scraped.body, 'dg_recovery_queue_jobs{queue="steps",state="waiting"}')).toBe(0);
      expect(sample(scraped.body, 'dg_recovery_journal_lag_runs')).toBe(0);
    } finally {
      await workers.stop();
    }
  });
});
