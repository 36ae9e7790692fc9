import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANA, BO, E2E, type Person } from './harness.js';

// Operators named through a Slack user group: the bot reads the group's members with usergroups.users.list (on
// the fake Slack, as the real client calls it) and lets them start a run; when Slack cannot tell, it refuses and
// says why. The run's record names the person, and the engine saw their group.

const ONCALL = 'S0ONCALL';
/** An operator only through the on-call group. */
const CAROL: Person = { id: 'U0CAROL', name: 'carol' };

let e2e: E2E;

beforeAll(async () => {
  e2e = await E2E.start({
    sim: { faults: ['node-down'] },
    access: { operators: [ANA.id, ONCALL], approvers: [ANA.id, BO.id] },
  });
  e2e.fake.setUserGroup(ONCALL, [CAROL.id, 'U0SOMEONE']);
});

afterAll(async () => {
  await e2e?.close();
});

describe('operators in a user group', () => {
  it('refuses with a clear message when Slack cannot list the group, and starts nothing', async () => {
    e2e.fake.queueError('usergroups.users.list', 'internal_error');
    const { res, ack, responseId } = await e2e.command(CAROL, 'recover restart');
    expect(res.status).toBe(200);
    // The acknowledgement does not wait for Slack's answer about the group: the refusal follows it.
    expect(ack.text ?? '').toBe('');
    const refusal = await e2e.until(() => e2e.privateTexts(CAROL.id, responseId)[0], 'the refusal');
    expect(refusal).toContain('Only recovery operators can run `/dg recover`');
    expect(refusal).toContain('membership of user group `S0ONCALL` could not be checked with Slack just now');
    expect(refusal).toContain('Try again in a moment');
    expect(await e2e.bot.runtime.service.listActive()).toEqual([]);
    expect(e2e.fake.calls('usergroups.users.list')).toMatchObject([
      { params: { usergroup: ONCALL }, ok: false, error: 'internal_error' },
    ]);
  });

  it('lets a member start a run once Slack answers, and reads the group once for a while', async () => {
    const started = await e2e.command(CAROL, 'recover restart');
    const runId = await e2e.startedRunId(started.responseId);
    const state = await e2e.runFinished(runId);
    expect(state.startedBy).toMatchObject({ id: CAROL.id, name: 'carol', via: 'slack' });
    expect(state.outcome?.outcome).toBe('recovered');

    // Help now lists the operator commands for her, from the cached member list, in the acknowledgement itself.
    const help = await e2e.command(CAROL, 'help');
    expect(help.ack.text).toContain('/dg recover');
    expect(e2e.fake.calls('usergroups.users.list').filter((c) => c.ok)).toHaveLength(1);
    // Someone outside the group is still refused, plainly.
    const outsider = await e2e.command({ id: 'U0MALLORY', name: 'mallory' }, 'recover restart');
    expect(outsider.ack.text).toContain('Only recovery operators can run `/dg recover`');
    expect(outsider.ack.text).not.toContain('user group');
    e2e.expectEverythingWithinLimits();
  }, 30_000);
});
