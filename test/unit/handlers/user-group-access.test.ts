import type { RespondArguments } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import type { Access } from '../../../src/config/recovery-config.js';
import type { ButtonArgs } from '../../../src/handlers/button-context.js';
import { type DgCommandArgs, handleDgCommand } from '../../../src/handlers/dg-command.js';
import { handleReasonSubmission } from '../../../src/handlers/reason-submission.js';
import { handleApproveButton } from '../../../src/handlers/run-buttons.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import {
  ACTION,
  encodeActionValue,
  encodeReasonMetadata,
  REASON_INPUT,
  REASON_MODAL,
} from '../../../src/slack/action-values.js';
import type { GroupMembership, UserGroupDirectory } from '../../../src/slack/user-groups.js';
import { CHANNEL, depsWith, fakeService, OPERATOR } from './fakes.js';

// Access lists that name user groups: the person's groups are read through the directory, they decide what the
// person may do, and they travel to the run service as `actor.groups`. A group Slack cannot answer for lets
// nobody in, and the person is told that, not "you are not an operator".

const ONCALL = 'S0ONCALL';
const APPROVERS = 'S0APPROVERS';
const CAROL = 'U0CAROL';
const RUN = 'run-0a1b2c3d4e';

const ACCESS: Access = {
  operators: [OPERATOR, ONCALL],
  approvers: [APPROVERS],
  channels: [CHANNEL],
  twoPersonRule: true,
};

function directory(members: Record<string, string[]>, failing: string[] = []) {
  const membership = vi.fn(
    async (userId: string, groups: readonly string[]): Promise<GroupMembership> => ({
      groups: groups.filter((g) => !failing.includes(g) && (members[g] ?? []).includes(userId)),
      unchecked: groups.filter((g) => failing.includes(g)),
    }),
  );
  const userGroups: UserGroupDirectory = { membership };
  return { userGroups, membership };
}

function command(text: string, userId: string) {
  const acks: Array<string | RespondArguments | undefined> = [];
  const responses: RespondArguments[] = [];
  const a: DgCommandArgs = {
    command: { text, user_id: userId, user_name: 'carol', channel_id: CHANNEL },
    ack: vi.fn(async (r?: string | RespondArguments) => {
      acks.push(r);
    }),
    respond: vi.fn(async (m: RespondArguments) => {
      responses.push(m);
    }),
  };
  return { a, acks, responses };
}

const textOf = (r: string | RespondArguments | undefined) => (typeof r === 'string' ? r : (r?.text ?? ''));

describe('operators named through a user group', () => {
  it('lets a member of an operators group start a run, and hands the group to the run service', async () => {
    const { service } = fakeService();
    const { userGroups, membership } = directory({ [ONCALL]: [CAROL] });
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const { a, responses } = command('recover restart', CAROL);
    await handleDgCommand(a, deps);
    expect(membership).toHaveBeenCalledWith(CAROL, [ONCALL, APPROVERS]);
    expect(service.start).toHaveBeenCalledWith(
      expect.objectContaining({ actor: { id: CAROL, name: 'carol', via: 'slack', groups: [ONCALL] } }),
    );
    expect(textOf(responses[0])).toContain('Started run');
  });

  it('acks at once when Slack must be asked, then refuses through the response URL when it cannot tell', async () => {
    const { service } = fakeService();
    const { userGroups } = directory({ [ONCALL]: [CAROL] }, [ONCALL]);
    const { deps, lines } = depsWith(service, { access: ACCESS, userGroups });
    const { a, acks, responses } = command('recover restart', CAROL);
    await handleDgCommand(a, deps);
    expect(service.start).not.toHaveBeenCalled();
    // Slack's acknowledgement did not wait for the lookup: it is empty, and the answer follows.
    expect(acks).toEqual([undefined]);
    const answer = textOf(responses[0]);
    expect(answer).toContain('Only recovery operators can run `/dg recover`');
    expect(answer).toContain('membership of user group `S0ONCALL` could not be checked with Slack just now');
    expect(answer).toContain('Try again in a moment');
    expect(lines().find((l) => l.msg === 'request refused')?.refusal).toMatchObject({
      userId: CAROL,
      action: 'recover',
      code: 'group_lookup_failed',
    });
  });

  it('gives someone in no listed group the plain refusal', async () => {
    const { service } = fakeService();
    const { userGroups } = directory({ [ONCALL]: [CAROL] });
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const { a, responses } = command('recover restart', 'U0EVE');
    await handleDgCommand(a, deps);
    expect(textOf(responses[0])).toContain('Only recovery operators can run `/dg recover`');
    expect(textOf(responses[0])).not.toContain('user group');
    expect(service.start).not.toHaveBeenCalled();
  });

  it('does not ask Slack about people the lists name directly, nor for commands anyone may run', async () => {
    const { service } = fakeService();
    const { userGroups, membership } = directory({});
    const { deps } = depsWith(service, { access: { ...ACCESS, approvers: [OPERATOR] }, userGroups });
    await handleDgCommand(command('recover restart', OPERATOR).a, deps);
    await handleDgCommand(command('status', CAROL).a, deps);
    expect(membership).not.toHaveBeenCalled();
    expect(service.start).toHaveBeenCalledTimes(1);
  });

  it('lists the operator commands in /dg help for a member of the group', async () => {
    const { service } = fakeService();
    const { userGroups } = directory({ [ONCALL]: [CAROL] });
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const { a, responses } = command('help', CAROL);
    await handleDgCommand(a, deps);
    expect(textOf(responses[0])).toContain('recover');
    expect(textOf(responses[0])).toContain('abort');
  });

  it('answers in the acknowledgement itself once the groups are cached', async () => {
    const { service } = fakeService();
    const { userGroups, membership } = directory({ [ONCALL]: [CAROL] });
    const cachedMembership = vi.fn((_userId: string, _groups: readonly string[]) => ({
      groups: [ONCALL],
      unchecked: [],
    }));
    const { deps } = depsWith(service, { access: ACCESS, userGroups: { ...userGroups, cachedMembership } });
    const help = command('help', CAROL);
    await handleDgCommand(help.a, deps);
    expect(textOf(help.acks[0])).toContain('/dg recover');
    const start = command('recover restart', CAROL);
    await handleDgCommand(start.a, deps);
    expect(textOf(start.acks[0])).toContain('Starting a `restart` recovery run');
    expect(membership).not.toHaveBeenCalled();
    expect(service.start).toHaveBeenCalledWith(
      expect.objectContaining({ actor: { id: CAROL, name: 'carol', via: 'slack', groups: [ONCALL] } }),
    );
  });

  it('counts a group as closed when no directory is set up', async () => {
    const { service } = fakeService();
    const { deps } = depsWith(service, { access: ACCESS });
    const { a, acks } = command('recover restart', CAROL);
    await handleDgCommand(a, deps);
    expect(service.start).not.toHaveBeenCalled();
    expect(textOf(acks[0])).toContain('could not be checked');
  });
});

describe('approvers named through a user group', () => {
  const events: RunEvent[] = [
    {
      type: 'run_started',
      runId: RUN,
      seq: 1,
      at: '2026-03-07T12:00:00.000Z',
      scenario: 'restart',
      scenarioVersion: 1,
      tenantId: 'default',
      startedBy: { id: OPERATOR, name: 'ana', via: 'slack' },
      params: {},
      channelId: CHANNEL,
    },
    {
      type: 'approval_requested',
      runId: RUN,
      seq: 2,
      at: '2026-03-07T12:00:01.000Z',
      stepId: 'approve_stop',
      round: 1,
      guards: 'stop_runtime',
      prompt: 'Stop the runtime',
      approvers: [APPROVERS],
      excluded: [OPERATOR],
      fingerprint: 'fp-1',
      evidence: [],
    },
  ];

  function approveClick(userId: string) {
    const ephemerals: string[] = [];
    const args: ButtonArgs = {
      body: {
        user: { id: userId, username: 'carol' },
        trigger_id: 'trig-1',
        channel: { id: CHANNEL },
        message: { ts: '1700000000.000200', thread_ts: '1700000000.000100' },
        actions: [
          {
            action_id: ACTION.approve,
            value: encodeActionValue({ runId: RUN, stepId: 'approve_stop', choice: 'approve', seq: 2 }),
          },
        ],
      },
      ack: vi.fn(async () => undefined),
      client: {
        chat: {
          postEphemeral: vi.fn(async (m: { text: string }) => {
            ephemerals.push(m.text);
            return {};
          }),
        },
        views: { open: vi.fn(async () => ({})), update: vi.fn(async () => ({})) },
      },
    };
    return { args, ephemerals };
  }

  it('passes the approver’s group with the approval', async () => {
    const { service } = fakeService(events);
    const { userGroups } = directory({ [APPROVERS]: [CAROL] });
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const { args, ephemerals } = approveClick(CAROL);
    await handleApproveButton(args, deps);
    expect(service.approve).toHaveBeenCalledWith(RUN, {
      stepId: 'approve_stop',
      actor: { id: CAROL, name: 'carol', via: 'slack', groups: [APPROVERS] },
      fingerprint: 'fp-1',
    });
    expect(ephemerals).toEqual([]);
  });

  it('refuses an approval whose group could not be checked, saying so', async () => {
    const { service } = fakeService(events);
    const { userGroups } = directory({ [APPROVERS]: [CAROL] }, [APPROVERS]);
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const { args, ephemerals } = approveClick(CAROL);
    await handleApproveButton(args, deps);
    expect(service.approve).not.toHaveBeenCalled();
    expect(ephemerals[0]).toContain('`S0APPROVERS` could not be checked with Slack just now');
  });
});

describe('a reason dialog submitted by someone whose groups Slack must be asked about', () => {
  it('closes the dialog at once and answers in the thread, a refusal included', async () => {
    const { service } = fakeService();
    const { userGroups, membership } = directory({ [ONCALL]: [] });
    const { deps } = depsWith(service, { access: ACCESS, userGroups });
    const acks: unknown[] = [];
    const ephemerals: string[] = [];
    await handleReasonSubmission(
      {
        body: {
          user: { id: CAROL, username: 'carol' },
          view: {
            callback_id: REASON_MODAL,
            private_metadata: encodeReasonMetadata({
              purpose: 'abort',
              target: { runId: RUN, stepId: '-', choice: 'abort', seq: 1 },
              channelId: CHANNEL,
              threadTs: '1700000000.000100',
            }),
            state: { values: { [REASON_INPUT.block]: { [REASON_INPUT.action]: { value: 'drill over' } } } },
          },
        },
        ack: vi.fn(async (r?: unknown) => {
          acks.push(r);
        }),
        client: {
          chat: {
            postEphemeral: vi.fn(async (m: { text: string }) => {
              ephemerals.push(m.text);
              return {};
            }),
          },
          views: { open: vi.fn(async () => ({})), update: vi.fn(async () => ({})) },
        },
      },
      deps,
    );
    expect(acks).toEqual([undefined]);
    expect(membership).toHaveBeenCalled();
    expect(service.abort).not.toHaveBeenCalled();
    expect(ephemerals[0]).toContain('Only recovery operators can do this.');
  });
});
