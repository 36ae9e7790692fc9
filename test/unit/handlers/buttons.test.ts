import type { ViewResponseAction } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import type { ButtonArgs, InteractionClient } from '../../../src/handlers/button-context.js';
import { handleReasonSubmission, type SubmissionArgs } from '../../../src/handlers/reason-submission.js';
import {
  handleAbortButton,
  handleApproveButton,
  handleDecisionButton,
  handleManualDoneButton,
  handleRetryButton,
} from '../../../src/handlers/run-buttons.js';
import { foldRun, type RunEvent } from '../../../src/runbook/index.js';
import {
  ACTION,
  encodeActionValue,
  encodeReasonMetadata,
  REASON_INPUT,
  REASON_MODAL,
  VALUE_INPUT,
} from '../../../src/slack/action-values.js';
import { assertModalWithinLimits, type ModalView } from '../../../src/slack/blocks/validate.js';
import { APPROVER, CHANNEL, depsWith, fakeService, OPERATOR, OUTSIDER, Timeline } from './fakes.js';

const RUN = 'run-0a1b2c3d4e';
const AT = (n: number) => new Date(Date.UTC(2026, 2, 7, 12, 0, n)).toISOString();
const ANA = { id: OPERATOR, name: 'ana', via: 'slack' as const };
const BO = { id: APPROVER, name: 'bo', via: 'slack' as const };

/** A run log with one of each request the thread has buttons for. */
const EVENTS: RunEvent[] = [
  {
    type: 'run_started',
    runId: RUN,
    seq: 1,
    at: AT(0),
    scenario: 'restart',
    scenarioVersion: 1,
    tenantId: 'default',
    startedBy: ANA,
    params: { traceId: 't-1' },
    channelId: CHANNEL,
  },
  {
    type: 'decision_requested',
    runId: RUN,
    seq: 2,
    at: AT(1),
    stepId: 'orphan_runs',
    item: { id: 'replay-5790', label: 'replay-5790: catch_up of all' },
    prompt: 'Replay run replay-5790 is orphaned',
    options: [
      { id: 'ignore', label: 'Ignore it', effect: 'continue' },
      { id: 'retry', label: 'Retry', recommended: true, effect: 'continue' },
      {
        id: 'other',
        label: 'Another backup',
        effect: 'continue',
        needsValue: { label: 'Backup path', pattern: '^/', maxLength: 200 },
      },
    ],
    evidence: [],
  },
  {
    type: 'approval_requested',
    runId: RUN,
    seq: 3,
    at: AT(2),
    stepId: 'approve_stop',
    round: 1,
    guards: 'stop_runtime',
    prompt: 'Stop the runtime',
    approvers: [APPROVER],
    excluded: [OPERATOR],
    fingerprint: 'fp-round-1',
    evidence: [],
  },
  {
    type: 'manual_action_requested',
    runId: RUN,
    seq: 4,
    at: AT(3),
    stepId: 'restart_runtime',
    attempt: 1,
    instructions: 'Restart it',
    evidence: [],
  },
  {
    type: 'step_failed',
    runId: RUN,
    seq: 5,
    at: AT(4),
    stepId: 'read_trace',
    attempt: 1,
    error: { code: 'trace_missing', message: 'gone' },
    transient: false,
    evidence: [],
  },
  {
    type: 'run_paused',
    runId: RUN,
    seq: 6,
    at: AT(5),
    reason: 'read_trace failed',
    stepId: 'read_trace',
    options: ['retry', 'skip', 'abort'],
  },
  { type: 'run_resumed', runId: RUN, seq: 7, at: AT(6), by: BO, action: 'retry', stepId: 'read_trace' },
  {
    type: 'run_paused',
    runId: RUN,
    seq: 8,
    at: AT(7),
    reason: 'read_trace failed again',
    stepId: 'read_trace',
    options: ['retry', 'skip', 'abort'],
  },
];

function fakeClient(timeline: Timeline) {
  const ephemerals: Array<{ channel: string; user: string; text: string; thread_ts?: string }> = [];
  const views: ModalView[] = [];
  const client: InteractionClient = {
    chat: {
      postEphemeral: vi.fn(async (a) => {
        timeline.mark('ephemeral');
        ephemerals.push(a);
        return {};
      }),
    },
    views: {
      open: vi.fn(async (a) => {
        timeline.mark('views.open');
        views.push(a.view);
        return { view: { id: 'V1', hash: 'h1' } };
      }),
      update: vi.fn(async (a) => {
        views.push(a.view);
        return {};
      }),
    },
  };
  return { client, ephemerals, views };
}

function click(actionId: string, value: string, userId: string, label?: string) {
  const timeline = new Timeline();
  const { client, ephemerals, views } = fakeClient(timeline);
  const args: ButtonArgs = {
    body: {
      user: { id: userId, username: userId === OPERATOR ? 'ana' : userId === APPROVER ? 'bo' : 'eve' },
      trigger_id: 'trig-1',
      channel: { id: CHANNEL },
      message: { ts: '1700000000.000200', thread_ts: '1700000000.000100' },
      actions: [{ action_id: actionId, value, ...(label ? { text: { text: label } } : {}) }],
    },
    ack: vi.fn(async () => {
      timeline.mark('ack');
    }),
    client,
  };
  return { args, timeline, ephemerals, views };
}

const value = (stepId: string, choice: string, seq: number) => encodeActionValue({ runId: RUN, stepId, choice, seq });

describe('decision buttons', () => {
  it('acks first, then decides with the item the request was about', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click('dg.decide.1', value('orphan_runs', 'retry', 2), APPROVER);
    service.decide.mockImplementation(async () => {
      c.timeline.mark('decide');
      return { ok: true, events: [] };
    });
    await handleDecisionButton(c.args, deps);
    expect(c.timeline.entries).toEqual(['ack', 'decide']);
    expect(service.decide).toHaveBeenCalledWith(RUN, {
      stepId: 'orphan_runs',
      optionId: 'retry',
      itemId: 'replay-5790',
      actor: { id: APPROVER, name: 'bo', via: 'slack' },
    });
    expect(c.ephemerals).toEqual([]);
  });

  it('tells the person who clicked second who was first, in the thread, only to them', async () => {
    const { service } = fakeService(EVENTS);
    service.decide.mockResolvedValue({ ok: false, code: 'already_decided', message: 'already decided by ana: Retry' });
    const { deps, lines } = depsWith(service);
    const c = click('dg.decide.0', value('orphan_runs', 'ignore', 2), APPROVER);
    await handleDecisionButton(c.args, deps);
    expect(c.ephemerals).toEqual([
      {
        channel: CHANNEL,
        user: APPROVER,
        thread_ts: '1700000000.000100',
        text: expect.stringContaining('Too late: already decided by ana: Retry'),
      },
    ]);
    expect(lines().find((l) => l.msg === 'request refused')?.refusal).toMatchObject({
      code: 'already_decided',
      runId: RUN,
    });
  });

  it('opens the dialog before reading anything for an option that needs a value, then fills in its wording', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click('dg.decide_value.2', value('orphan_runs', 'other', 2), OPERATOR, 'Another backup…');
    service.get.mockImplementation(async () => {
      c.timeline.mark('get');
      return { events: EVENTS, state: foldRun(EVENTS) };
    });
    await handleDecisionButton(c.args, deps);
    expect(c.timeline.entries.slice(0, 3)).toEqual(['ack', 'views.open', 'get']);
    expect(service.decide).not.toHaveBeenCalled();
    for (const view of c.views) expect(assertModalWithinLimits(view)).toEqual([]);
    const updated = c.views.at(-1) as ModalView;
    expect(JSON.stringify(updated)).toContain('Backup path');
    expect(updated.callback_id).toBe(REASON_MODAL);
    expect(updated.private_metadata).toBe(
      encodeReasonMetadata({
        purpose: 'decide',
        target: { runId: RUN, stepId: 'orphan_runs', choice: 'other', seq: 2 },
        channelId: CHANNEL,
        threadTs: '1700000000.000100',
      }),
    );
  });

  it('refuses someone who is not an operator without reading the run or opening a dialog', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click('dg.decide_reason.1', value('orphan_runs', 'retry', 2), OUTSIDER);
    await handleDecisionButton(c.args, deps);
    expect(c.timeline.entries).toEqual(['ack', 'ephemeral']);
    expect(c.ephemerals[0]?.text).toContain('Only recovery operators can decide');
    expect(service.get).not.toHaveBeenCalled();
  });

  it('answers a value that is not one of the bot’s as out of date', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click('dg.decide.0', 'run-x|<!channel>|v', OPERATOR);
    await handleDecisionButton(c.args, deps);
    expect(c.ephemerals[0]?.text).toContain('out of date');
    expect(service.decide).not.toHaveBeenCalled();
  });
});

describe('approve, done, retry, abort', () => {
  it('approves with the fingerprint of the request the button was posted with', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click(ACTION.approve, value('approve_stop', 'approve', 3), APPROVER);
    await handleApproveButton(c.args, deps);
    expect(service.approve).toHaveBeenCalledWith(RUN, {
      stepId: 'approve_stop',
      actor: { id: APPROVER, name: 'bo', via: 'slack' },
      fingerprint: 'fp-round-1',
    });
  });

  it('refuses a non-approver at once and tells the starter about the two-person rule', async () => {
    const { service } = fakeService(EVENTS);
    service.approve.mockResolvedValue({
      ok: false,
      code: 'same_person',
      message: 'ana started this run; another person must approve (two-person rule)',
    });
    const { deps } = depsWith(service);
    const starter = click(ACTION.approve, value('approve_stop', 'approve', 3), OPERATOR);
    await handleApproveButton(starter.args, deps);
    // The starter is no approver in this config: refused before the engine is asked.
    expect(starter.ephemerals[0]?.text).toContain('Only the approvers');
    const withRule = depsWith(service, { access: { ...deps.access, approvers: [OPERATOR, APPROVER] } });
    const again = click(ACTION.approve, value('approve_stop', 'approve', 3), OPERATOR);
    await handleApproveButton(again.args, withRule.deps);
    expect(again.ephemerals[0]?.text).toContain('two-person rule');
  });

  it('reports a manual action as done for the request it was posted with', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click(ACTION.manualDone, value('restart_runtime', 'done', 4), OPERATOR);
    await handleManualDoneButton(c.args, deps);
    expect(service.manualDone).toHaveBeenCalledWith(RUN, {
      stepId: 'restart_runtime',
      actor: expect.objectContaining({ id: OPERATOR }),
    });
    const stale = click(ACTION.manualDone, value('restart_runtime', 'done', 3), OPERATOR);
    await handleManualDoneButton(stale.args, deps);
    expect(stale.ephemerals[0]?.text).toContain('out of date');
    expect(service.manualDone).toHaveBeenCalledTimes(1);
  });

  it('refuses a Retry from a pause that already ended, naming who resumed it', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const old = click(ACTION.retry, value('read_trace', 'retry', 6), OPERATOR);
    await handleRetryButton(old.args, deps);
    expect(old.ephemerals[0]?.text).toContain('already retried by bo');
    expect(service.retry).not.toHaveBeenCalled();
    const current = click(ACTION.retry, value('read_trace', 'retry', 8), OPERATOR);
    await handleRetryButton(current.args, deps);
    expect(service.retry).toHaveBeenCalledTimes(1);
  });

  it('opens the reason dialog for Abort right after the ack', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const c = click(ACTION.abort, value('-', 'abort', 1), OPERATOR);
    await handleAbortButton(c.args, deps);
    expect(c.timeline.entries).toEqual(['ack', 'views.open']);
    expect(assertModalWithinLimits(c.views[0])).toEqual([]);
    expect(service.get).not.toHaveBeenCalled();
    expect(service.abort).not.toHaveBeenCalled();
  });
});

describe('the reason dialog’s submission', () => {
  function submission(
    purpose: 'decide' | 'skip' | 'abort',
    target: string,
    values: Record<string, string>,
    userId = OPERATOR,
  ) {
    const timeline = new Timeline();
    const { client, ephemerals } = fakeClient(timeline);
    const acks: Array<ViewResponseAction | undefined> = [];
    const [runId = '', stepId = '', choice = '', v = 'v1'] = target.split('|');
    const args: SubmissionArgs = {
      body: {
        user: { id: userId, username: 'ana' },
        view: {
          callback_id: REASON_MODAL,
          private_metadata: encodeReasonMetadata({
            purpose,
            target: { runId, stepId, choice, seq: Number(v.slice(1)) },
            channelId: CHANNEL,
            threadTs: '1700000000.000100',
          }),
          state: {
            values: Object.fromEntries(
              Object.entries(values).map(([block, text]) => [block, { [block]: { value: text } }]),
            ),
          },
        },
      },
      ack: vi.fn(async (r?: ViewResponseAction) => {
        timeline.mark('ack');
        acks.push(r);
      }),
      client,
    };
    return { args, acks, ephemerals, timeline };
  }

  it('keeps the dialog open with the problem on the field when the reason is missing', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const s = submission('skip', value('read_trace', 'skip', 8), { [REASON_INPUT.block]: '  ' });
    await handleReasonSubmission(s.args, deps);
    expect(s.acks).toEqual([{ response_action: 'errors', errors: { reason: expect.stringContaining('say why') } }]);
    expect(service.skip).not.toHaveBeenCalled();
  });

  it('skips with the reason, and shows an engine objection about the value on its field', async () => {
    const { service } = fakeService(EVENTS);
    const { deps } = depsWith(service);
    const skip = submission('skip', value('read_trace', 'skip', 8), { [REASON_INPUT.block]: 'trace purged' });
    await handleReasonSubmission(skip.args, deps);
    expect(service.skip).toHaveBeenCalledWith(RUN, {
      actor: expect.objectContaining({ id: OPERATOR }),
      reason: 'trace purged',
    });
    expect(skip.acks).toEqual([undefined]);

    service.decide.mockResolvedValueOnce({
      ok: false,
      code: 'value_invalid',
      message: '"x" is not a valid backup path',
    });
    const bad = submission('decide', value('orphan_runs', 'other', 2), {
      [VALUE_INPUT.block]: 'x',
      [REASON_INPUT.block]: '',
    });
    await handleReasonSubmission(bad.args, deps);
    expect(service.decide).toHaveBeenCalledWith(
      RUN,
      expect.objectContaining({ optionId: 'other', value: 'x', itemId: 'replay-5790' }),
    );
    expect(bad.acks).toEqual([{ response_action: 'errors', errors: { value: '"x" is not a valid backup path' } }]);
  });

  it('answers a second dialog for a decision already made on its field, and logs the refused correction', async () => {
    const { service } = fakeService(EVENTS);
    const { deps, lines } = depsWith(service);
    service.decide.mockResolvedValueOnce({
      ok: false,
      code: 'already_decided',
      message: 'already decided: /backups/a.dump by ana',
    });
    const second = submission('decide', value('orphan_runs', 'other', 2), { [VALUE_INPUT.block]: '/backups/b.dump' });
    await handleReasonSubmission(second.args, deps);
    expect(second.acks).toEqual([
      { response_action: 'errors', errors: { value: 'already decided: /backups/a.dump by ana' } },
    ]);
    expect(lines().find((l) => l.msg === 'request refused')?.refusal).toMatchObject({
      userId: OPERATOR,
      action: 'decide',
      code: 'already_decided',
      runId: RUN,
    });
  });

  it('closes the dialog in time when the service is slow, then tells the outcome', async () => {
    const { service } = fakeService(EVENTS);
    let finish: (v: { ok: false; code: string; message: string }) => void = () => undefined;
    service.abort.mockImplementation(
      () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
    );
    const { deps } = depsWith(service, { submitBudgetMs: 20 });
    const s = submission('abort', value('-', 'abort', 1), { [REASON_INPUT.block]: 'stop' });
    const pending = handleReasonSubmission(s.args, deps);
    await vi.waitFor(() => expect(s.acks).toEqual([undefined]));
    finish({ ok: false, code: 'run_finished', message: `run ${RUN} has finished (recovered)` });
    await pending;
    expect(s.timeline.entries).toEqual(['ack', 'ephemeral']);
    expect(s.ephemerals[0]?.text).toContain('has finished (recovered)');
  });
});
