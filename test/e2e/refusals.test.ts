import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION } from '../../src/projections/thread/index.js';
import { formBody, postSignedForm, slackSignature, slashCommandFields } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, E2E, EVE, OTHER_CHANNEL, SIGNING_SECRET, textOf, withButton } from './harness.js';

// Every way the bot says no: each refusal is an ephemeral answer saying why, and nothing changes. Requests that
// are not Slack's (unsigned, wrongly signed, too old) are turned away with 401 before any listener runs.

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({ sim: { faults: ['failed-upgrade'] }, bot: { reminderMs: 400 } });
});

afterAll(async () => {
  await e2e?.close();
});

async function noRunStarted() {
  expect(await e2e.bot.runtime.service.listActive()).toEqual([]);
  expect(e2e.fake.calls('chat.postMessage')).toEqual([]);
}

describe('requests that are not from Slack', () => {
  it('answers an unsigned, a wrongly signed and a stale command with 401 and starts nothing', async () => {
    const fields = slashCommandFields({ text: 'recover restart', responseUrl: e2e.fake.responseUrl(), userId: ANA.id });
    const unsigned = await request(e2e.url, {
      method: 'POST',
      body: formBody(fields),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(unsigned.statusCode).toBe(401);
    await unsigned.body.dump();
    const wrong = await postSignedForm(e2e.url, 'not-the-secret', fields);
    expect(wrong.status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const stale = await postSignedForm(e2e.url, SIGNING_SECRET, fields, now - 301);
    expect(stale.status).toBe(401);
    // A signature over another body does not pass either.
    const swapped = await postSignedForm(e2e.url, SIGNING_SECRET, fields, now, {
      signature: slackSignature(SIGNING_SECRET, now, formBody({ ...fields, text: 'help' })),
    });
    expect(swapped.status).toBe(401);
    await noRunStarted();
    expect(e2e.fake.responses()).toEqual([]);
  });
});

describe('commands the bot refuses', () => {
  it('refuses someone who is not an operator, and help lists only what they may run', async () => {
    const { res, ack } = await e2e.command(EVE, 'recover restart');
    expect(res.status).toBe(200);
    expect(ack.text).toContain('Only recovery operators can run `/dg recover`');
    const help = await e2e.command(EVE, 'help');
    expect(help.ack.text).toContain('/dg status');
    expect(help.ack.text).not.toContain('/dg recover');
    expect(help.ack.text).not.toContain('/dg abort');
    const operatorHelp = await e2e.command(ANA, 'help');
    expect(operatorHelp.ack.text).toContain('/dg recover');
    await noRunStarted();
  });

  it('refuses a command in a channel that is not configured for recovery', async () => {
    const { ack } = await e2e.command(ANA, 'recover restart', OTHER_CHANNEL);
    expect(ack.text).toContain('is not taken in this channel');
    expect(ack.text).toContain('<#C0INCIDENT>');
    await noRunStarted();
  });

  it('answers an unknown scenario or command with the closest valid one', async () => {
    const scenario = await e2e.command(ANA, 'recover restrat');
    expect(scenario.ack.text).toContain('Unknown scenario `restrat`: did you mean `restart`?');
    const command = await e2e.command(ANA, 'recovr restart');
    expect(command.ack.text).toContain('did you mean `recover`?');
    const injected = await e2e.command(ANA, 'recover <!channel>');
    expect(injected.ack.text).not.toContain('<!channel>');
    expect(injected.ack.text).toContain('&lt;!channel&gt;');
    await noRunStarted();
  });
});

describe('approvals and the two-person rule', () => {
  it('lets neither the starter nor a non-approver approve, then takes the second person’s approval', async () => {
    const started = await e2e.command(ANA, 'recover upgrade');
    const runId = await e2e.startedRunId(started.responseId);

    // A second run while this one is active is refused with the active run's id.
    const second = await e2e.command(BO, 'recover restart');
    const refusal = await e2e.until(
      () => e2e.privateTexts(BO.id, second.responseId).find((t) => t.includes('Not started')),
      'the refusal of a second run',
    );
    expect(refusal).toContain(runId);

    const approval = await e2e.until(() => withButton(e2e.thread(runId), ACTION.approve), 'the approval request');
    expect(textOf(approval)).toContain(
      '*Waiting for* <@U0BO> to approve: only <@U0BO> may, not <@U0ANA>, who started the run (two-person rule).',
    );

    // Nobody approves for a while: a reminder mentions the approvers, not the starter.
    const reminder = await e2e.until(
      () => e2e.thread(runId).find((m) => m.text?.startsWith('Still waiting for an approval')),
      'the approval reminder',
    );
    expect(textOf(reminder)).toContain('<@U0BO>');
    expect(textOf(reminder)).not.toContain('<@U0ANA>');

    // A click signed with the wrong secret changes nothing.
    const forged = await postSignedForm(e2e.url, 'forged', { payload: '{}' });
    expect(forged.status).toBe(401);

    const ownClick = await e2e.click(ANA, approval, ACTION.approve);
    expect(ownClick.status).toBe(200);
    const own = await e2e.until(
      () => e2e.privateTexts(ANA.id).find((t) => t.includes('two-person rule')),
      'the starter to be told about the two-person rule',
    );
    expect(own).toContain('another person must approve');
    const eveClick = await e2e.click(EVE, approval, ACTION.approve);
    expect(eveClick.status).toBe(200);
    await e2e.until(
      () => e2e.privateTexts(EVE.id).find((t) => t.includes('Only the approvers')),
      'a non-approver to be told',
    );
    let run = await e2e.bot.runtime.service.get(runId);
    expect(run?.state.approvals).toEqual([]);

    await e2e.click(BO, approval, ACTION.approve);
    await e2e.until(
      () => textOf(e2e.thread(runId).find((m) => m.ts === approval.ts)).includes('approved by <@U0BO>'),
      'the approval to name Bo',
    );
    run = await e2e.bot.runtime.service.get(runId);
    expect(run?.state.approvals.map((a) => a.by.id)).toEqual([BO.id]);

    // A non-operator cannot abort; the starter can, with a reason that is escaped where it is shown.
    const eveAbort = await e2e.command(EVE, `abort ${runId} not mine`);
    expect(eveAbort.ack.text).toContain('Only recovery operators');
    const abort = await e2e.command(ANA, `abort ${runId} drill over <!here>`);
    expect(abort.ack.text).toContain('Aborting run');
    await e2e.until(() => textOf(e2e.thread(runId)[0]).includes('Aborted'), 'the header to say Aborted');
    await e2e.bot.outbox?.drain(runId, 10_000);
    const header = e2e.thread(runId)[0];
    expect(textOf(header)).toContain('drill over &lt;!here&gt;');
    expect(buttons(header ?? ({} as never))).toEqual([]);
    e2e.expectEverythingWithinLimits();
  });
});
