import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, REASON_INPUT } from '../../src/projections/thread/index.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, E2E, textOf, withButton } from './harness.js';

// Options and actions that need a reason open a dialog; what is typed is checked on the field before anything
// is recorded, and the reason then stands in the run log and the thread, escaped.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down', 'projections-behind'] } });
});

afterAll(async () => {
  await e2e?.close();
});

/**
 * Starts a `restart` run and waits for its first decision: the option `wait` of the catch_up decision on a fresh
 * simulator, and in any case the first option that asks for a reason.
 */
async function firstDecision() {
  const started = await e2e.command(ANA, 'recover restart');
  const runId = await e2e.startedRunId(started.responseId);
  const decision = await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide/), 'the decision');
  const wait = buttons(decision).find((b) => b.value?.includes('|wait|'));
  const withReason = buttons(decision).find((b) => b.actionId.startsWith(`${ACTION.decideWithReason}.`));
  return { runId, decision, wait, withReason };
}

describe('options and actions that need a reason', () => {
  it('opens a dialog, refuses an empty reason on the field, and records the reason given', async () => {
    const { runId, decision, wait } = await firstDecision();
    expect(wait?.actionId).toMatch(/^dg\.decide_reason\./);
    expect(wait?.text.endsWith('…')).toBe(true);

    const trigger = newTriggerId();
    await e2e.click(BO, decision, wait?.actionId ?? '', undefined, trigger);
    await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === trigger), 'the reason dialog');
    const empty = await e2e.submit(BO, trigger, { [REASON_INPUT.block]: '   ' });
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.text)).toMatchObject({ response_action: 'errors', errors: { reason: expect.any(String) } });
    let run = await e2e.bot.runtime.service.get(runId);
    expect(run?.events.some((e) => e.type === 'decision_made')).toBe(false);

    const given = await e2e.submit(BO, trigger, { [REASON_INPUT.block]: 'writes resume at 10:00 <@U0ANA>' });
    expect(given.status).toBe(200);
    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === decision.ts)).includes('Reason: writes resume at 10:00'),
      'the decision to show the reason',
    );
    const shown = textOf(e2e.thread(runId).find((m) => m.ts === decision.ts));
    expect(shown).toContain('&lt;@U0ANA&gt;');
    run = await e2e.bot.runtime.service.get(runId);
    const made = run?.events.find((e) => e.type === 'decision_made');
    expect(made?.type === 'decision_made' && [made.optionId, made.reason, made.by.id]).toEqual([
      'wait',
      'writes resume at 10:00 <@U0ANA>',
      BO.id,
    ]);

    // Abort from the header: another dialog, and the run ends with the reason in the record.
    const header = await e2e.until(() => withButton(e2e.thread(runId).slice(0, 1), ACTION.abort), 'the header');
    const abortTrigger = newTriggerId();
    await e2e.click(ANA, header, ACTION.abort, undefined, abortTrigger);
    await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === abortTrigger), 'the abort dialog');
    const aborted = await e2e.submit(ANA, abortTrigger, { [REASON_INPUT.block]: 'drill finished' });
    expect(aborted.status).toBe(200);
    await e2e.until(() => textOf(e2e.thread(runId)[0]).includes('Aborted'), 'the header to say Aborted');
    run = await e2e.bot.runtime.service.get(runId);
    expect(run?.state.abort?.reason).toBe('drill finished');
    await e2e.bot.outbox?.drain(runId, 10_000);
    e2e.expectEverythingWithinLimits();
  });

  // Two dialogs open for one decision: the second submission is a correction the run does not take.
  it('answers a second dialog for a decision already made "already decided" on its field; the first stands', async () => {
    const { runId, decision, withReason } = await firstDecision();
    const [first, second] = [newTriggerId(), newTriggerId()];
    await e2e.click(BO, decision, withReason?.actionId ?? '', withReason?.value, first);
    await e2e.click(BO, decision, withReason?.actionId ?? '', withReason?.value, second);
    await e2e.until(
      () => e2e.fake.views().filter((v) => v.trigger_id === first || v.trigger_id === second).length === 2,
      'both dialogs',
    );

    const decided = await e2e.submit(BO, first, { [REASON_INPUT.block]: 'writes resume at 10:00' });
    expect(decided.text).toBe('');
    const corrected = await e2e.submit(BO, second, { [REASON_INPUT.block]: 'no, writes resume at 11:00' });
    expect(JSON.parse(corrected.text)).toEqual({
      response_action: 'errors',
      errors: { [REASON_INPUT.block]: expect.stringMatching(/^already decided: .+ by \w+$/) },
    });

    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === decision.ts)).includes('Reason: writes resume at 10:00'),
      'the decision to show the first reason',
    );
    const run = await e2e.bot.runtime.service.get(runId);
    const made = run?.events.filter((e) => e.type === 'decision_made') ?? [];
    expect(made.map((e) => e.type === 'decision_made' && e.reason)).toEqual(['writes resume at 10:00']);
  });
});
