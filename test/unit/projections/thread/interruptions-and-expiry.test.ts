import { describe, expect, it } from 'vitest';
import { ACTION, parseActionValue, renderThread } from '../../../../src/projections/thread/index.js';
import {
  beginStep,
  decideNext,
  type EngineCommand,
  expireApproval,
  foldRun,
  type RunEvent,
} from '../../../../src/runbook/index.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import type { OutboxMessage } from '../../../../src/slack/outbox/types.js';
import { ACCESS, append, type Drive, start, step } from '../../runbook/driver.js';
import { World } from '../../runbook/world.js';
import { RUNS } from '../summary/runs.js';

interface Button {
  action_id: string;
  value?: string;
  style?: string;
  confirm?: unknown;
  text: { text: string };
}

function buttonsOf(message: OutboxMessage): Button[] {
  const out: Button[] = [];
  for (const block of message.blocks as Array<{ type: string; elements?: Button[] }>) {
    if (block.type === 'actions') out.push(...(block.elements ?? []));
  }
  return out;
}

const textOf = (message: OutboxMessage) => JSON.stringify({ text: message.text, blocks: message.blocks });

function expectWithinLimits(render: readonly OutboxMessage[]): void {
  for (const message of render) {
    expect(assertWithinLimits({ text: message.text, blocks: message.blocks }), message.key).toEqual([]);
  }
}

type RunStep = Extract<EngineCommand, { type: 'run_step' }>;

/** An event-log run whose worker died inside `stop_writes`, run as a command on the host, then redelivered. */
function interruptedStopWrites(): Drive {
  const w = new World();
  w.integrity = { payload_hash_drift: 2 };
  const d = start(w, 'event-log');
  const actions = ['stop_writes', 'preserve_database', 'list_backups', 'restore_backup', 'restart_runtime'];
  d.engine = { hostActionModes: Object.fromEntries(actions.map((a) => [a, 'command'])) };
  let cmd: RunStep | undefined;
  for (let i = 0; i < 300 && cmd === undefined; i++) {
    const out = decideNext(d.state, d.scenario, d.now, { ...d.engine, access: ACCESS });
    if (out.command.type === 'run_step' && out.command.stepId === 'stop_writes') {
      append(d, out.events);
      cmd = out.command;
    } else if (step(d, {}) === 'stop') throw new Error('run stopped before stop_writes');
  }
  if (cmd === undefined) throw new Error('stop_writes never came');
  const options = { ...d.engine, access: ACCESS };
  const first = beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, options);
  if (first.kind !== 'execute') throw new Error(first.kind);
  append(d, first.events);
  // The worker died here; the job is delivered again.
  const again = beginStep(d.state, d.scenario, { jobId: cmd.jobId }, d.now, options);
  if (again.kind !== 'ask') throw new Error(again.kind);
  append(d, again.events);
  return d;
}

describe('an interrupted command action in the thread', () => {
  it('asks on the step itself: it finished (with a reason), run it again (confirmed), abort; nothing recommended', () => {
    const d = interruptedStopWrites();
    const render = renderThread(d.events, d.scenario, { defaultChannel: 'C0INC' });
    expectWithinLimits(render);
    const message = render.find((m) => m.key === 'step-stop_writes') as OutboxMessage;
    const text = textOf(message);
    expect(text).toContain('Interrupted: attempt 1, interrupted');
    expect(text).toContain('a person must say whether it finished');
    expect(text).toContain('Check whether every writer is stopped');
    const buttons = buttonsOf(message);
    expect(buttons.map((b) => b.action_id)).toEqual(['dg.decide_reason.0', 'dg.decide.1', 'dg.decide.2']);
    expect(buttons.map((b) => b.text.text)).toEqual(['It finished: mark it done…', 'Run it again', 'Abort the run']);
    expect(buttons.some((b) => b.style === 'primary')).toBe(false);
    // Repeating a destructive action is confirmed first; the values name the step and the request that asked.
    expect(buttons[1]?.confirm).toBeDefined();
    const asked = d.events.findLast((e) => e.type === 'decision_requested') as RunEvent;
    expect(buttons.map((b) => parseActionValue(b.value))).toEqual(
      ['done', 'run_again', 'abort'].map((choice) => ({
        runId: d.state.runId,
        stepId: 'stop_writes',
        choice,
        seq: asked.seq,
      })),
    );
  });

  it('after the answer the buttons give way to who said it finished and what they checked', () => {
    const d = interruptedStopWrites();
    const asked = d.events.findLast((e) => e.type === 'decision_requested') as RunEvent;
    const made: RunEvent = {
      type: 'decision_made',
      runId: d.state.runId,
      seq: asked.seq + 1,
      at: new Date(d.now.getTime() + 1000).toISOString(),
      stepId: 'stop_writes',
      item: { id: 'a1', label: 'attempt 1, interrupted' },
      optionId: 'done',
      by: { id: 'U012ABC', name: 'ana', via: 'slack' },
      reason: 'load balancer shows maintenance',
    };
    const events = [...d.events, made];
    expect(foldRun(events).pendingDecision).toBeNull();
    const render = renderThread(events, d.scenario, { defaultChannel: 'C0INC' });
    expectWithinLimits(render);
    const message = render.find((m) => m.key === 'step-stop_writes') as OutboxMessage;
    expect(buttonsOf(message)).toEqual([]);
    const text = textOf(message);
    expect(text).toContain('It finished: mark it done');
    expect(text).toContain('<@U012ABC>');
    expect(text).toContain('load balancer shows maintenance');
  });
});

describe('an approval nobody gave in time', () => {
  function expired() {
    const run = RUNS['event-log'].recovered();
    const requested = run.events.find((e) => e.type === 'approval_requested');
    if (requested?.type !== 'approval_requested') throw new Error('no approval in the event-log run');
    const upTo = run.events.slice(0, run.events.indexOf(requested) + 1);
    const later = new Date(Date.parse(requested.at) + 24 * 3600_000);
    const result = expireApproval(foldRun(upTo), run.scenario, later);
    if (result.kind !== 'expired') throw new Error(result.kind);
    const events = [...upTo, ...result.events];
    return { run, requested, events, render: renderThread(events, run.scenario, { defaultChannel: 'C0INC' }) };
  }

  it('shows the request as expired, without an Approve button', () => {
    const { requested, render } = expired();
    expectWithinLimits(render);
    const message = render.find((m) => m.key === `step-${requested.stepId}`) as OutboxMessage;
    const text = textOf(message);
    expect(text).toContain('nobody approved within');
    expect(text).toContain(`Round ${requested.round}: Expired at`);
    expect(buttonsOf(message).map((b) => b.action_id)).not.toContain(ACTION.approve);
  });

  it('offers only Retry and Abort on the pause, and the channel alert says nobody approved', () => {
    const { requested, events, render } = expired();
    const message = render.find((m) => m.key === `step-${requested.stepId}`) as OutboxMessage;
    expect(buttonsOf(message).map((b) => b.action_id)).toEqual([ACTION.retry, ACTION.abort]);
    expect(textOf(message)).toContain('Retry asks again; Abort ends the run.');
    expect(textOf(message)).not.toContain('Skip');
    const pause = events.at(-1) as RunEvent;
    const alert = render.find((m) => m.key === `alert-${requested.stepId}-${pause.seq}`) as OutboxMessage;
    expect(alert.broadcast).toBe(true);
    expect(textOf(alert)).toContain('nobody approved');
    expect(textOf(alert)).toContain('Retry or abort in the thread.');
    expect(textOf(alert)).not.toContain('failed');
  });
});
