import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, CHANNEL, E2E, textOf, withButton } from './harness.js';

// `/dg status`, `/dg status <run>`, the result the channel is told and `/dg history`, on a DecisionGraph whose
// projections are behind: the bot's health verdict names the stale projections and their pending events, a run
// shows where it stands, and once it ends the channel gets the digest and the history its gist.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['projections-behind'] } });
});

afterAll(async () => {
  await e2e?.close();
});

/** The whole answer sent through a response URL (text and blocks), once it has come. */
async function answer(responseId: string, what: string): Promise<string> {
  const body = await e2e.until(() => e2e.fake.responses(responseId)[0]?.body, what);
  return JSON.stringify({ text: body.text, blocks: body.blocks });
}

describe('/dg status on a DecisionGraph with projections behind', () => {
  it('shows the checklist verdict with the stale projections and their pending events, measured vs expected', async () => {
    const status = await e2e.command(BO, 'status');
    expect(status.res.status).toBe(200);
    expect(status.ack.text ?? '').toBe('');
    const shown = await answer(status.responseId, 'the status answer');
    expect(shown).toContain('DecisionGraph is not healthy');
    expect(shown).toContain('`projection_stale`');
    expect(shown).toContain('`pending_events`');
    // Pending events are measured per projection against 0; stale cursors against the tenant's tail.
    expect(shown).toMatch(/measured `[a-z_]+: [1-9]\d*[^`]*` · expected `0`/);
    expect(shown).toMatch(/measured `[a-z_]+: \d+[^`]*` · expected `last_log_seq: \d+`/);
    expect(shown).toContain('No recovery run is active');
    expect(shown).toContain('Run state: live logs and jobs in Redis at 127.0.0.1:6379');
  });
});

describe('a run from start to end, seen through status, the channel and history', () => {
  it('shows the run and its step, announces its end with the digest, and lists it with its gist', async () => {
    const started = await e2e.command(ANA, 'recover projections');
    const runId = await e2e.startedRunId(started.responseId);
    await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide/), 'the replay decision in the thread');

    const status = await e2e.command(BO, 'status');
    const listed = await answer(status.responseId, 'the status with the run');
    expect(listed).toContain('One run is active');
    expect(listed).toContain(runId);
    expect(listed).toContain('waiting decision');

    const one = await e2e.command(BO, `status ${runId}`);
    const header = await answer(one.responseId, "the run's header state");
    expect(header).toContain('Recovery: Projection corruption or stale reads');
    expect(header).toContain(runId);
    expect(header).toContain('Waiting for a decision');
    expect(header).not.toContain('"type":"actions"');

    const aborted = await e2e.command(ANA, `abort ${runId} drill over, projections left for the morning shift`);
    await e2e.until(() => e2e.fake.responses(aborted.responseId)[0], 'the abort answer');
    await e2e.runFinished(runId);

    // The channel is told the outcome with the digest; the summary itself stays in the thread.
    const result = await e2e.until(
      () => e2e.fake.channelMessages(CHANNEL).find((m) => m.reply_broadcast && textOf(m).includes(runId)),
      'the result broadcast to the channel',
    );
    const digest = textOf(result);
    expect(digest).toContain('Aborted');
    expect(digest).toContain('*Duration*');
    expect(digest).toContain('*Time to healthy*\\nnot healthy');
    expect(digest).toContain('*Open manual actions*');
    expect(digest).toContain('drill over, projections left for the morning shift');
    expect(digest).toContain(`/dg summary ${runId}`);
    const broadcasts = e2e.fake.channelMessages(CHANNEL).filter((m) => m.reply_broadcast && textOf(m).includes(runId));
    expect(broadcasts.every((m) => !m.text?.startsWith('Incident summary'))).toBe(true);

    await e2e.bot.runtime.drainJournal(10_000);
    const history = await e2e.command(EVE_LIKE, 'history 5');
    const past = await answer(history.responseId, 'the history');
    expect(past).toContain(runId);
    expect(past).toContain('*aborted*');
    expect(past).toContain('Aborted by ana');
    expect(past).toContain(`/dg summary ${runId}`);
    await e2e.bot.outbox?.drain(runId, 10_000);
    e2e.expectEverythingWithinLimits();
  }, 30_000);
});

/** History is for anyone in the channel, operator or not. */
const EVE_LIKE = { id: 'U0VIEWER', name: 'viewer' };
