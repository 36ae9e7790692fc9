import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_INPUT } from '../../src/bot/thread/index.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, E2E, textOf, withButton } from './harness.js';

// Two dialogs open for one decision: the first submission decides, the second is a correction the run does not
// take. It is answered on the dialog's field with what was decided and by whom, and the run goes on with the first.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['node-down', 'projections-behind'] } });
});

afterAll(async () => {
  await e2e?.close();
});

describe('a second dialog for a decision already made', () => {
  it('is answered "already decided" on its field, and the first answer stands', async () => {
    const started = await e2e.command(ANA, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    const decision = await e2e.until(() => withButton(e2e.thread(runId), /^dg\.decide/), 'the decision');
    const wait = buttons(decision).find((b) => b.value?.includes('|wait|'));
    const [first, second] = [newTriggerId(), newTriggerId()];
    await e2e.click(BO, decision, wait?.actionId ?? '', wait?.value, first);
    await e2e.click(BO, decision, wait?.actionId ?? '', wait?.value, second);
    await e2e.until(
      () => e2e.fake.views().filter((v) => v.trigger_id === first || v.trigger_id === second).length === 2,
      'both dialogs',
    );

    const decided = await e2e.submit(BO, first, { [REASON_INPUT.block]: 'writes resume at 10:00' });
    expect(decided.text).toBe('');
    const corrected = await e2e.submit(BO, second, { [REASON_INPUT.block]: 'no, writes resume at 11:00' });
    expect(JSON.parse(corrected.text)).toEqual({
      response_action: 'errors',
      errors: { [REASON_INPUT.block]: expect.stringMatching(/^already decided: No replay: wait.* by \w+$/) },
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
