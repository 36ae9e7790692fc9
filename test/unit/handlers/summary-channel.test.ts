import type { RespondArguments } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { type DgCommandArgs, handleDgCommand } from '../../../src/handlers/dg-command.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { RUNS } from '../projections/summary/runs.js';
import { ACCESS, depsWith, fakeService, OPERATOR } from './fakes.js';

// `/dg summary <run>` posts the incident for the whole channel to read: only in the run's own channel, or in one
// the `channels` allow-list names; anywhere else it is refused and recorded.

const RUN_ID = 'run-0a1b2c3d4e';
const RUN_CHANNEL = 'C0INCIDENT';
const LISTED = 'C0LISTED';
const ELSEWHERE = 'C0RANDOM';

function finishedRun(): RunEvent[] {
  return RUNS.restart
    .recovered()
    .events.map(
      (e) =>
        (e.type === 'run_started'
          ? { ...e, runId: RUN_ID, channelId: RUN_CHANNEL }
          : { ...e, runId: RUN_ID }) as RunEvent,
    );
}

async function summaryIn(channelId: string, channels: readonly string[]) {
  const { service } = fakeService(finishedRun());
  const { deps, lines } = depsWith(service, { access: { ...ACCESS, channels } });
  const responses: RespondArguments[] = [];
  const args: DgCommandArgs = {
    command: { text: `summary ${RUN_ID}`, user_id: OPERATOR, user_name: 'ana', channel_id: channelId },
    ack: vi.fn(async () => undefined),
    respond: vi.fn(async (message: RespondArguments) => {
      responses.push(message);
    }),
  };
  await handleDgCommand(args, deps);
  return {
    responses,
    refusals: lines()
      .filter((l) => l.msg === 'request refused')
      .map((l) => l.refusal),
  };
}

describe('/dg summary and where it is typed', () => {
  it('posts in the run’s own channel when every channel is allowed', async () => {
    const { responses, refusals } = await summaryIn(RUN_CHANNEL, []);
    expect(responses[0]).toMatchObject({
      response_type: 'in_channel',
      text: expect.stringContaining('Incident summary'),
    });
    expect(refusals).toEqual([]);
  });

  it('refuses another channel when every channel is allowed, telling only the person and recording it', async () => {
    const { responses, refusals } = await summaryIn(ELSEWHERE, []);
    expect(responses).toEqual([{ response_type: 'ephemeral', text: expect.stringContaining(`act on it there`) }]);
    expect(responses[0]?.text).toContain(`<#${RUN_CHANNEL}>`);
    expect(refusals).toEqual([
      expect.objectContaining({ action: 'summary', code: 'wrong_channel', runId: RUN_ID, channelId: ELSEWHERE }),
    ]);
  });

  it('posts in a channel the allow-list names, and refuses one it leaves out', async () => {
    expect((await summaryIn(LISTED, [RUN_CHANNEL, LISTED])).responses[0]).toMatchObject({
      response_type: 'in_channel',
    });
    const outside = await summaryIn(ELSEWHERE, [RUN_CHANNEL, LISTED]);
    expect(outside.responses).toEqual([]);
    expect(outside.refusals).toEqual([expect.objectContaining({ code: 'channel_not_allowed' })]);
  });
});
