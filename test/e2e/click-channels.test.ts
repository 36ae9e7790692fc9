import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, REASON_INPUT } from '../../src/projections/thread/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, CHANNEL, E2E, OTHER_CHANNEL, textOf, withButton } from './harness.js';

// A run is operated from its own thread: a click or a dialog coming from a channel the allow-list leaves out, or
// from another allowed channel (a copied or forwarded message), is refused and changes nothing.

const SECOND_CHANNEL = 'C0SECOND';

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({
    sim: { faults: ['node-down', 'projections-behind'] },
    access: { channels: [CHANNEL, SECOND_CHANNEL] },
  });
});

afterAll(async () => {
  await e2e?.close();
});

/** The same message as it would arrive from another channel (forwarded, copied, or a forged click). */
function seenIn(message: StoredMessage, channel: string): StoredMessage {
  return { ...message, channel };
}

async function decisionsMade(runId: string) {
  const run = await e2e.bot.runtime.service.get(runId);
  return run?.events.filter((e) => e.type === 'decision_made') ?? [];
}

describe('clicks and dialogs from the wrong channel', () => {
  it('refuses them, and takes the same click from the run’s own thread', async () => {
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    const decision = await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide\./), 'the decision');
    const catchUp = buttons(decision).find((b) => b.value?.includes('|catch_up|'));
    const header = await e2e.until(() => withButton(e2e.thread(runId).slice(0, 1), ACTION.abort), 'the header');

    // A channel the allow-list leaves out: refused before anything is read, no dialog opened.
    await e2e.click(BO, seenIn(decision, OTHER_CHANNEL), catchUp?.actionId ?? '', catchUp?.value);
    const outside = newTriggerId();
    await e2e.click(BO, seenIn(header, OTHER_CHANNEL), ACTION.abort, undefined, outside);
    await e2e.until(
      () => e2e.privateTexts(BO.id).filter((t) => t.includes('not started or operated from this channel')).length === 2,
      'both clicks outside the allow-list to be refused',
    );
    expect(e2e.fake.views().find((v) => v.trigger_id === outside)).toBeUndefined();

    // An allowed channel that is not the run's: the decision is refused, and so is the abort dialog's submission.
    await e2e.click(BO, seenIn(decision, SECOND_CHANNEL), catchUp?.actionId ?? '', catchUp?.value);
    const elsewhere = newTriggerId();
    await e2e.click(BO, seenIn(header, SECOND_CHANNEL), ACTION.abort, undefined, elsewhere);
    await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === elsewhere), 'the abort dialog');
    const submitted = await e2e.submit(BO, elsewhere, { [REASON_INPUT.block]: 'forwarded button' });
    expect(submitted.status).toBe(200);
    await e2e.until(
      () => e2e.privateTexts(BO.id).filter((t) => t.includes('operated from its own thread')).length === 2,
      'the click and the submission from another channel to be refused',
    );
    expect(await decisionsMade(runId)).toEqual([]);
    expect((await e2e.bot.runtime.service.get(runId))?.state.abort).toBeNull();

    // The very same button, clicked in the run's own thread, decides.
    await e2e.click(BO, decision, catchUp?.actionId ?? '', catchUp?.value);
    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === decision.ts)).includes('Decided* by <@U0BO>'),
      'the decision to be made from the run’s thread',
    );
    expect((await decisionsMade(runId)).map((e) => e.type === 'decision_made' && e.by.id)).toEqual([BO.id]);
  });
});
