import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, parseActionValue } from '../../src/projections/thread/index.js';
import { ANA, BO, buttons, CHANNEL, E2E, textOf, withButton } from './harness.js';

// Someone who keeps clicking Retry on a step that keeps failing: the channel gets one alert for that pause, updated
// with each failed Retry, not a new channel message per attempt.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start();
});

afterAll(async () => {
  await e2e?.close();
});

async function lastPauseSeq(runId: string): Promise<number | undefined> {
  const run = await e2e.bot.runtime.service.get(runId);
  return run?.events.filter((e) => e.type === 'run_paused').at(-1)?.seq;
}

async function pausesOf(runId: string): Promise<number> {
  const run = await e2e.bot.runtime.service.get(runId);
  return run?.events.filter((e) => e.type === 'run_paused').length ?? 0;
}

describe('a checklist that fails again after every Retry', () => {
  it('keeps one broadcast alert in the channel, updated in place with the failed Retries', async () => {
    // A trace that does not exist: the checklist fails on it every time, whatever people click.
    const started = await e2e.command(ANA, 'recover projections trace=trace-gone-0001');
    const runId = await e2e.startedRunId(started.responseId);
    const decision = await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide/), 'the first decision');
    const checkOnly = buttons(decision).find((b) => b.value?.includes('|check_only|'));
    expect(checkOnly).toBeDefined();
    await e2e.click(BO, decision, checkOnly?.actionId ?? '', checkOnly?.value);

    const broadcasts = () =>
      e2e.fake.channelMessages(CHANNEL).filter((m) => m.reply_broadcast && textOf(m).includes(runId));
    for (let attempt = 1; attempt <= 4; attempt++) {
      await expect.poll(() => pausesOf(runId), { timeout: 15_000 }).toBe(attempt);
      const pauseSeq = await lastPauseSeq(runId);
      // The gate's message once it shows this pause's buttons (an older copy would be refused as stale).
      const paused = await e2e.until(() => {
        const gate = e2e.thread(runId).find((m) => textOf(m).includes('st-gate'));
        const retry = gate && buttons(gate).find((b) => b.actionId === ACTION.retry);
        return retry && parseActionValue(retry.value)?.seq === pauseSeq ? gate : undefined;
      }, `the checklist to pause (${attempt})`);
      const failedRetries = attempt === 1 ? 'Retry, skip or abort' : `${attempt - 1} Retr`;
      const alerts = await e2e.until(
        () => broadcasts().length > 0 && textOf(broadcasts().at(-1)).includes(failedRetries) && broadcasts(),
        `the alert after ${attempt - 1} Retries`,
      );
      expect(alerts).toHaveLength(1);
      if (attempt === 4) break;
      const retry = buttons(paused).find((b) => b.actionId === ACTION.retry);
      expect((await e2e.click(BO, paused, retry?.actionId ?? '', retry?.value)).status).toBe(200);
    }

    // One alert, posted once and updated since: it says how many Retries failed and who clicked the last one.
    await e2e.bot.outbox?.drain(runId, 10_000);
    const alerts = broadcasts();
    expect(alerts).toHaveLength(1);
    expect(textOf(alerts[0])).toContain('3 Retries failed, the last by <@U0BO>');
    expect(textOf(alerts[0])).toContain('Recovery checklist');
    const alertPosts = e2e.fake
      .calls('chat.postMessage')
      .filter((c) => c.ok && String(c.params.text).includes(`Recovery run ${runId} is paused`));
    expect(alertPosts).toHaveLength(1);
    e2e.expectEverythingWithinLimits();
  });
});
