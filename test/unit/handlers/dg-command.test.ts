import type { RespondArguments } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { type DgCommandArgs, handleDgCommand } from '../../../src/handlers/dg-command.js';
import { type SummaryFileRequest, SummaryUploadFailedError } from '../../../src/projections/summary-file/index.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { assertWithinLimits } from '../../../src/slack/blocks/validate.js';
import { RUNS } from '../projections/summary/runs.js';
import { APPROVER, CHANNEL, depsWith, fakeService, OPERATOR, OUTSIDER, Timeline } from './fakes.js';

const RUN_ID = 'run-0a1b2c3d4e';

function finishedRun(): RunEvent[] {
  return RUNS.restart.recovered().events.map((e) => ({ ...e, runId: RUN_ID }) as RunEvent);
}

function args(text: string, userId = OPERATOR, channelId = CHANNEL, timeline = new Timeline()) {
  const acks: Array<string | RespondArguments | undefined> = [];
  const responses: RespondArguments[] = [];
  const a: DgCommandArgs = {
    command: { text, user_id: userId, user_name: 'someone', channel_id: channelId },
    ack: vi.fn(async (response?: string | RespondArguments) => {
      timeline.mark('ack');
      acks.push(response);
    }),
    respond: vi.fn(async (message: RespondArguments) => {
      timeline.mark('respond');
      responses.push(message);
    }),
  };
  return { a, acks, responses, timeline };
}

const textOf = (r: string | RespondArguments | undefined) => (typeof r === 'string' ? r : (r?.text ?? ''));

describe('/dg: acknowledge first, then hand over', () => {
  it('acks "starting…" before it asks the run service, then tells the result through the response URL', async () => {
    const { service } = fakeService();
    const timeline = new Timeline();
    service.start.mockImplementation(async () => {
      timeline.mark('start');
      return { ok: true, runId: RUN_ID };
    });
    const { deps } = depsWith(service);
    const { a, acks, responses } = args('recover restart trace=t-1 tenant=acme', OPERATOR, CHANNEL, timeline);
    await handleDgCommand(a, deps);
    expect(timeline.entries).toEqual(['ack', 'start', 'respond']);
    expect(a.ack).toHaveBeenCalledTimes(1);
    expect(textOf(acks[0])).toContain('Starting a `restart` recovery run');
    expect(service.start).toHaveBeenCalledWith({
      scenario: 'restart',
      tenantId: 'acme',
      params: { traceId: 't-1' },
      actor: { id: OPERATOR, name: 'someone', via: 'slack' },
      channelId: CHANNEL,
    });
    expect(responses[0]).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(responses[0])).toContain(`Started run \`${RUN_ID}\``);
  });

  it('tells why a start was refused and records the refusal by its code', async () => {
    const { service } = fakeService();
    service.start.mockResolvedValue({
      ok: false,
      code: 'run_active',
      message: 'a run for this deployment is already active: run-9f9f9f9f9f',
      activeRunId: 'run-9f9f9f9f9f',
    });
    const { deps, lines } = depsWith(service);
    const { a, responses } = args('recover pg');
    await handleDgCommand(a, deps);
    expect(textOf(responses[0])).toContain('already active: run-9f9f9f9f9f');
    const refusal = lines().find((l) => l.msg === 'request refused');
    expect(refusal?.refusal).toMatchObject({
      userId: OPERATOR,
      action: 'recover',
      code: 'run_active',
      runId: 'run-9f9f9f9f9f',
    });
  });

  it('answers at once, in the ack, when nothing slow is needed: a typo, a refusal, help', async () => {
    const { service } = fakeService();
    const { deps, lines } = depsWith(service);
    const typo = args('recover restrat');
    await handleDgCommand(typo.a, deps);
    expect(textOf(typo.acks[0])).toContain('did you mean `restart`?');
    expect(typo.a.respond).not.toHaveBeenCalled();

    const outsider = args('recover restart', OUTSIDER);
    await handleDgCommand(outsider.a, deps);
    expect(textOf(outsider.acks[0])).toContain('Only recovery operators can run `/dg recover`');

    const elsewhere = args('status', OPERATOR, 'C0OTHER');
    await handleDgCommand(elsewhere.a, deps);
    expect(textOf(elsewhere.acks[0])).toContain('not taken in this channel');
    expect(textOf(elsewhere.acks[0])).toContain(`<#${CHANNEL}>`);

    expect(service.start).not.toHaveBeenCalled();
    expect(
      lines()
        .filter((l) => l.msg === 'request refused')
        .map((l) => (l.refusal as { code: string }).code),
    ).toEqual(['unknown_scenario', 'not_operator', 'channel_not_allowed']);
    // The record holds codes and ids, never what was typed.
    expect(JSON.stringify(lines())).not.toContain('restrat');
  });

  it('lists in help only the commands the person may run', async () => {
    const { service } = fakeService();
    const { deps } = depsWith(service);
    const outsider = args('help', OUTSIDER);
    await handleDgCommand(outsider.a, deps);
    const shown = textOf(outsider.acks[0]);
    expect(shown).toContain('/dg status');
    expect(shown).not.toContain('/dg recover');
    expect(shown).not.toContain('/dg abort');
    const approver = args('help', APPROVER);
    await handleDgCommand(approver.a, deps);
    expect(textOf(approver.acks[0])).toContain('/dg recover');
    expect(textOf(approver.acks[0])).toContain('approve destructive steps');
  });

  it('decodes what Slack escaped before parsing, and shows input escaped', async () => {
    const { service } = fakeService();
    const { deps } = depsWith(service);
    const { a, acks } = args('recover &lt;!channel&gt;');
    await handleDgCommand(a, deps);
    expect(textOf(acks[0])).toContain('&lt;!channel&gt;');
    expect(textOf(acks[0])).not.toContain('<!channel>');
  });
});

describe('/dg abort, status, summary, history, diagnose', () => {
  it('aborts with the reason as typed, and reports a refusal', async () => {
    const { service } = fakeService();
    service.abort.mockResolvedValueOnce({
      ok: false,
      code: 'run_finished',
      message: `run ${RUN_ID} has finished (recovered)`,
    });
    const { deps } = depsWith(service);
    const { a, acks, responses } = args(`abort ${RUN_ID} pg failover <@U1> & more`);
    await handleDgCommand(a, deps);
    expect(textOf(acks[0])).toContain('Aborting run');
    expect(service.abort).toHaveBeenCalledWith(RUN_ID, {
      actor: { id: OPERATOR, name: 'someone', via: 'slack' },
      reason: 'pg failover <@U1> & more',
    });
    expect(textOf(responses[0])).toContain('has finished (recovered)');
  });

  it('shows the active runs, or one run in detail', async () => {
    const { service } = fakeService(finishedRun());
    service.listActive.mockResolvedValue([
      {
        runId: RUN_ID,
        scenario: 'restart',
        tenantId: 'default',
        status: 'waiting_decision',
        currentStep: 'catch_up_decision',
      },
    ]);
    const { deps } = depsWith(service, { stateNote: 'Run state: Redis at 127.0.0.1:6379' });
    const list = args('status');
    await handleDgCommand(list.a, deps);
    expect(list.a.ack).toHaveBeenCalledWith();
    expect(textOf(list.responses[0])).toContain('One run is active');
    expect(textOf(list.responses[0])).toContain('waiting decision');
    expect(textOf(list.responses[0])).toContain('Redis at 127.0.0.1:6379');
    const one = args(`status ${RUN_ID}`);
    await handleDgCommand(one.a, deps);
    expect(textOf(one.responses[0])).toContain('Recovered');
    expect(textOf(one.responses[0])).toContain('App node restart or host reboot');
  });

  it('re-posts a run’s incident summary in the channel, within Block Kit limits', async () => {
    const { service } = fakeService(finishedRun());
    const { deps } = depsWith(service);
    const { a, responses } = args(`summary ${RUN_ID}`);
    await handleDgCommand(a, deps);
    const reply = responses[0] as RespondArguments & { blocks: unknown[] };
    expect(reply.response_type).toBe('in_channel');
    expect(reply.text).toContain('Incident summary');
    expect(assertWithinLimits({ text: reply.text, blocks: reply.blocks })).toEqual([]);
  });

  it('posts the Markdown file below the re-posted summary, in the channel the command came from', async () => {
    const { service } = fakeService(finishedRun());
    const timeline = new Timeline();
    const postSummaryFile = vi.fn(async (_req: SummaryFileRequest) => {
      timeline.mark('file');
      return { fileId: 'F1' };
    });
    const { deps } = depsWith(service, { postSummaryFile });
    const { a, responses } = args(`summary ${RUN_ID}`, OUTSIDER, CHANNEL, timeline);
    await handleDgCommand(a, deps);
    expect(timeline.entries).toEqual(['ack', 'respond', 'file']);
    expect(postSummaryFile).toHaveBeenCalledWith(expect.objectContaining({ runId: RUN_ID, channelId: CHANNEL }));
    expect(responses).toHaveLength(1);
  });

  it('tells the person when Slack did not take the file, and how to fix a missing invitation', async () => {
    const { service } = fakeService(finishedRun());
    const postSummaryFile = vi.fn(async () => {
      throw new SummaryUploadFailedError('completeUploadExternal', {
        kind: 'permanent',
        code: 'not_in_channel',
        maybeSent: false,
      });
    });
    const { deps } = depsWith(service, { postSummaryFile });
    const { a, responses } = args(`summary ${RUN_ID}`);
    await handleDgCommand(a, deps);
    expect(responses[0]).toMatchObject({ response_type: 'in_channel' });
    expect(responses[1]).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(responses[1])).toContain(`\`incident-${RUN_ID}.md\` could not be posted`);
    expect(textOf(responses[1])).toContain('/invite @dg-recovery');
  });

  it('says history and diagnose are not available when the installation has no journal or probes', async () => {
    const { service } = fakeService();
    const { deps } = depsWith(service);
    for (const text of ['history', 'diagnose']) {
      const { a, acks } = args(text);
      await handleDgCommand(a, deps);
      expect(textOf(acks[0])).toContain('not available yet');
    }
  });

  it('lists the last runs with their outcome when the journal is there', async () => {
    const { service } = fakeService();
    const history = vi.fn(async () => [
      {
        runId: RUN_ID,
        scenario: 'restart',
        tenantId: 'default',
        status: 'finished',
        outcome: 'recovered',
        startedAt: '2026-03-07T12:00:00.000Z',
        finishedAt: '2026-03-07T12:04:00.000Z',
      },
    ]);
    const { deps } = depsWith(service, { history });
    const { a, responses } = args('history 5');
    await handleDgCommand(a, deps);
    expect(history).toHaveBeenCalledWith(5);
    expect(textOf(responses[0])).toContain('recovered');
    expect(textOf(responses[0])).toContain('took 4 min');
  });
});
