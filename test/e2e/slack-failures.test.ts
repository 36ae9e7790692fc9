import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedCall } from '../helpers/fake-slack.js';
import { ANA, E2E, textOf } from './harness.js';
import { summaryFileNames } from './summary-files.js';

// Slack misbehaving never holds a run up: a storm of 429s is waited out with each Retry-After, and while Slack is
// down the run goes on to its end and the thread catches up, in order, when Slack is back. Nothing is posted twice,
// and the summary file is shared once, even when Slack goes away in the middle of sharing it.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down'] } });
});

afterAll(async () => {
  await e2e?.close();
});

async function expectThreadComplete(runId: string) {
  await e2e.bot.summaryFile?.settled(runId);
  expect(e2e.sharedFiles(runId)).toHaveLength(1);
  expect(e2e.thread(runId).at(-1)?.files).toMatchObject(summaryFileNames(runId));
  const thread = e2e.messages(runId);
  const texts = thread.map((m) => m.text ?? '');
  expect(texts[0]).toContain(runId);
  expect(textOf(thread[0])).toContain('Recovered');
  expect(texts.at(-2)).toContain(`Recovery run ${runId} recovered`);
  expect(texts.at(-1)).toMatch(/^Incident summary/);
  const steps = ['check_healthz', 'restart_runtime', 'wait_healthz', 'check_projections', 'read_trace', 'gate'];
  const places = steps.map((id) => thread.findIndex((m) => textOf(m).includes(`st-${id}`)));
  expect(places.every((i) => i > 0)).toBe(true);
  expect([...places].sort((a, b) => a - b)).toEqual(places);
  return thread;
}

describe('Slack failing while a run goes on', () => {
  it('waits out a storm of 429s with each Retry-After and posts every message once', async () => {
    // Three 429s in a row, each asking for a second's pause; the run's posts all wait behind them.
    e2e.fake.queueRateLimit('chat.postMessage', 1, 3);
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    const state = await e2e.runFinished(runId);
    expect(state.outcome?.outcome).toBe('recovered');
    await e2e.until(() => e2e.thread(runId).find((m) => m.text?.startsWith('Incident summary')), 'the summary', 30_000);
    await e2e.bot.outbox?.drain(runId, 15_000);
    const thread = await expectThreadComplete(runId);

    const calls = [...e2e.fake.calls('chat.postMessage'), ...e2e.fake.calls('chat.update')].sort((a, b) => a.at - b.at);
    const limited = calls.filter((c) => c.status === 429);
    expect(limited).toHaveLength(3);
    for (const hit of limited) {
      const next = calls.find((c) => c.at > hit.at);
      // Retry-After was 1 s: nothing went to Slack for the run before it passed.
      expect((next?.at ?? Number.POSITIVE_INFINITY) - hit.at).toBeGreaterThanOrEqual(950);
    }
    const posted = e2e.fake.calls('chat.postMessage').filter((c) => c.ok);
    expect(posted).toHaveLength(thread.length);
  }, 30_000);

  it('finishes the run while Slack is down and catches the thread up in order when it is back', async () => {
    await e2e.sim.inject('node-down');
    const before = e2e.fake.calls('chat.postMessage').filter((c) => c.ok).length;
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    await e2e.until(() => e2e.thread(runId)[0], 'the header');
    await e2e.fake.goDown('refuse');
    const state = await e2e.runFinished(runId);
    expect(state.outcome?.outcome).toBe('recovered');
    expect(e2e.fake.isDown).toBe('refuse');
    expect(textOf(e2e.thread(runId)[0])).not.toContain('Recovered');

    await e2e.fake.goUp();
    await e2e.until(() => e2e.thread(runId).find((m) => m.text?.startsWith('Incident summary')), 'the summary', 30_000);
    await e2e.bot.outbox?.drain(runId, 15_000);
    const thread = await expectThreadComplete(runId);
    const posted = e2e.fake.calls('chat.postMessage').filter((c) => c.ok).length - before;
    expect(posted).toBe(thread.length);
    e2e.expectEverythingWithinLimits();
  }, 30_000);

  it('shares the summary file once when Slack goes away just as it shares it, answer lost', async () => {
    await e2e.sim.inject('node-down');
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    const header = await e2e.until(() => e2e.thread(runId)[0], 'the header');
    // Slack takes the share, then drops every connection before its answer leaves; while it stays away it
    // answers 503, and the publisher keeps trying.
    let outage: Promise<void> | undefined;
    const onShare = (call: RecordedCall) => {
      if (call.endpoint !== 'files.completeUploadExternal' || !call.ok || call.params.thread_ts !== header.ts) return;
      e2e.fake.off('call', onShare);
      outage = e2e.fake.goDown('refuse').then(async () => {
        await e2e.fake.goUp();
        await e2e.fake.goDown('503');
      });
    };
    e2e.fake.on('call', onShare);
    const state = await e2e.runFinished(runId);
    expect(state.outcome?.outcome).toBe('recovered');
    await e2e.until(() => outage, 'the share to be made');
    await outage;
    expect(await e2e.bot.summaryFile?.record(runId)).toMatchObject({ state: 'inflight' });
    const since = Date.now();
    await e2e.fake.waitForCall('conversations.replies', (c) => c.status === 503 && c.at >= since, 10_000);

    await e2e.fake.goUp();
    expect(await e2e.bot.summaryFile?.settled(runId)).toBe('done');
    const shares = e2e.fake
      .calls('files.completeUploadExternal')
      .filter((c) => c.ok && c.params.thread_ts === header.ts);
    expect(shares).toHaveLength(1);
    await expectThreadComplete(runId);
    e2e.expectEverythingWithinLimits();
  }, 30_000);
});
