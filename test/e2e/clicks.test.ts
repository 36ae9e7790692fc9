import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, buttons, E2E, textOf, withButton } from './harness.js';

// Duplicates are harmless: a double click, or two people clicking at once, makes one decision; whoever was not
// first is told who was, and a click on an old copy of a message is refused.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down', 'projections-behind'] } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('clicks on a decision', () => {
  let runId: string;

  it('makes one decision out of a double click and a concurrent click by someone else', async () => {
    const started = await e2e.command(ANA, 'recover restart');
    runId = await e2e.startedRunId(started.responseId);
    const decision = await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide/), 'the decision');
    const options = buttons(decision);
    const catchUp = options.find((b) => b.value?.includes('|catch_up|'));
    const wait = options.find((b) => b.value?.includes('|wait|'));
    expect(catchUp && wait).toBeTruthy();
    expect(wait?.actionId).toMatch(/^dg\.decide_reason\./);

    // Bo double-clicks catch_up while Ana clicks it too, all at the same moment.
    const results = await Promise.all([
      e2e.click(BO, decision, catchUp?.actionId ?? ''),
      e2e.click(BO, decision, catchUp?.actionId ?? ''),
      e2e.click(ANA, decision, catchUp?.actionId ?? ''),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === decision.ts)).includes('Decided* by'),
      'the decision to be shown as made',
    );
    const run = await e2e.bot.runtime.service.get(runId);
    const made = run?.events.filter((e) => e.type === 'decision_made') ?? [];
    expect(made).toHaveLength(1);
    const winner = made[0]?.type === 'decision_made' ? made[0].by.id : '';
    const loser = winner === ANA.id ? BO : ANA;
    const told = await e2e.until(
      () => e2e.privateTexts(loser.id).find((t) => t.includes('Too late')),
      'the other person to be told who was first',
    );
    expect(told).toMatch(new RegExp(`already decided: .+ by ${winner === ANA.id ? ANA.name : BO.name}`));
    // The winner hears nothing: their second click was the same decision.
    expect(e2e.privateTexts(winner)).toEqual([]);
  });

  it('refuses a late click on an old copy of the message once the run has finished', async () => {
    await e2e.until(() => textOf(e2e.thread(runId)[0]).includes('Recovered'), 'the run to recover', 30_000);
    const message = e2e.thread(runId).find((m) => textOf(m).includes('Projections are behind and not moving'));
    // A client that has not refreshed still shows the buttons as first posted; the click comes from there.
    const posted = e2e.fake
      .calls('chat.postMessage')
      .find((c) => c.ok && JSON.stringify(c.params.blocks ?? []).includes('catch_up_decision|abort'));
    expect(message && posted).toBeTruthy();
    const oldCopy = { ...(message as NonNullable<typeof message>), blocks: posted?.params.blocks as unknown[] };
    const abort = buttons(oldCopy).find((b) => b.value?.includes('|abort|'));
    const before = e2e.privateTexts(ANA.id).length;
    await e2e.click(ANA, oldCopy, abort?.actionId ?? '');
    const told = await e2e.until(() => e2e.privateTexts(ANA.id).slice(before)[0], 'a refusal of the late click');
    expect(told).toContain('has finished (recovered)');
    const run = await e2e.bot.runtime.service.get(runId);
    expect(run?.events.filter((e) => e.type === 'decision_made')).toHaveLength(1);
    expect(run?.state.outcome?.outcome).toBe('recovered');
  });
});
