import { describe, expect, it } from 'vitest';
import {
  ACTION,
  DECIDE_ACTION_PATTERN,
  HEADER_KEY,
  incidentSummaryMessage,
  parseActionValue,
  RESULT_KEY,
  renderThread,
  SUMMARY_KEY,
} from '../../../../src/projections/thread/index.js';
import {
  applyDecision,
  foldRun,
  getScenario,
  type RunEvent,
  reduce,
  type Scenario,
  startRun,
} from '../../../../src/runbook/index.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import type { OutboxMessage } from '../../../../src/slack/outbox/types.js';
import { World } from '../../../helpers/engine-world.js';
import { ACCESS, ANA, type Driven, drive } from '../summary/drive.js';
import { RUNS, type RunKind } from '../summary/runs.js';

const KINDS: RunKind[] = ['recovered', 'failed', 'aborted'];
const SCENARIOS = Object.keys(RUNS) as (keyof typeof RUNS)[];

interface Button {
  type: string;
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

function allText(message: OutboxMessage): string {
  return JSON.stringify({ text: message.text, blocks: message.blocks });
}

/** Every prefix of a run's log that a person could have seen, rendered. */
function renderEveryPrefix(run: Driven): OutboxMessage[][] {
  const renders: OutboxMessage[][] = [];
  for (let n = 1; n <= run.events.length; n++) {
    renders.push(renderThread(run.events.slice(0, n), run.scenario, { summary: incidentSummaryMessage }));
  }
  return renders;
}

const driven = new Map<string, Driven>();
function runOf(scenario: keyof typeof RUNS, kind: RunKind): Driven {
  const id = `${scenario}/${kind}`;
  let run = driven.get(id);
  if (!run) {
    run = RUNS[scenario][kind]();
    driven.set(id, run);
  }
  return run;
}

describe('renderThread over whole runs of every scenario', () => {
  for (const scenario of SCENARIOS) {
    for (const kind of KINDS) {
      it(`${scenario} ${kind}: every message of every render is within Block Kit limits`, () => {
        const run = runOf(scenario, kind);
        for (const render of renderEveryPrefix(run)) {
          for (const message of render) {
            const violations = assertWithinLimits({ text: message.text, blocks: message.blocks });
            expect(violations, `${message.key} after ${render.length} messages`).toEqual([]);
          }
        }
      });

      it(`${scenario} ${kind}: a message once posted stays in every later render, so none is left stale`, () => {
        const run = runOf(scenario, kind);
        const seen = new Set<string>();
        for (const render of renderEveryPrefix(run)) {
          const keys = new Set(render.map((m) => m.key));
          expect([...seen].filter((key) => !keys.has(key))).toEqual([]);
          for (const key of keys) seen.add(key);
        }
      });

      it(`${scenario} ${kind}: keys are stable, orders grow, the header comes first and the rest reply to it`, () => {
        const run = runOf(scenario, kind);
        const lastOrder = new Map<string, number>();
        for (const render of renderEveryPrefix(run)) {
          expect(render[0]?.key).toBe(HEADER_KEY);
          expect(render[0]?.parentKey).toBeUndefined();
          expect(new Set(render.map((m) => m.key)).size).toBe(render.length);
          for (const message of render.slice(1)) expect(message.parentKey).toBe(HEADER_KEY);
          for (const message of render) {
            expect(message.key).toMatch(/^[A-Za-z0-9_.:-]{1,100}$/);
            const before = lastOrder.get(message.key);
            if (before !== undefined) expect(message.order).toBeGreaterThan(before);
            lastOrder.set(message.key, message.order);
          }
          const orders = render.map((m) => m.order);
          expect([...orders].sort((a, b) => a - b)).toEqual(orders);
        }
      });
    }
  }

  it('every button value is ids only and points at the run, a known step and the event that asked', () => {
    for (const scenario of SCENARIOS) {
      for (const kind of KINDS) {
        const run = runOf(scenario, kind);
        const stepIds = new Set(run.scenario.steps.map((s) => s.id));
        for (const render of renderEveryPrefix(run)) {
          for (const message of render) {
            for (const b of buttonsOf(message)) {
              const value = parseActionValue(b.value);
              expect(value, b.value).toBeDefined();
              expect(value?.runId).toBe(run.state.runId);
              expect(value?.stepId === '-' || stepIds.has(value?.stepId ?? '')).toBe(true);
              const asking = run.events.find((e) => e.seq === value?.seq);
              expect(asking).toBeDefined();
              expect(b.value?.length).toBeLessThan(400);
            }
          }
        }
      }
    }
  });

  it('a finished run ends with a broadcast result, the summary, and no buttons anywhere', () => {
    const run = runOf('restart', 'recovered');
    const render = renderThread(run.events, run.scenario, { summary: incidentSummaryMessage });
    const result = render.find((m) => m.key === RESULT_KEY);
    expect(result?.broadcast).toBe(true);
    expect(result?.text).toContain('recovered');
    expect(render.at(-1)?.key).toBe(SUMMARY_KEY);
    expect(render.flatMap(buttonsOf)).toEqual([]);
    const header = render[0] as OutboxMessage;
    expect(allText(header)).toContain('Recovered');
    // The header and the result count the steps in the same words.
    const statuses = Object.values(run.state.steps).map((s) => s.status);
    const counts = `${statuses.filter((s) => s === 'passed').length} passed, ${statuses.filter((s) => s === 'skipped').length} skipped`;
    expect(allText(header)).toContain(counts);
    expect(allText(result as OutboxMessage)).toContain(counts);
  });

  it('a failure that pauses the run is broadcast under its own key and offers Retry, Skip and Abort', () => {
    const run = runOf('restart', 'failed');
    const pausedAt = run.events.findIndex((e) => e.type === 'run_paused');
    expect(pausedAt).toBeGreaterThan(0);
    const paused = run.events[pausedAt] as Extract<RunEvent, { type: 'run_paused' }>;
    const render = renderThread(run.events.slice(0, pausedAt + 1), run.scenario);
    const alert = render.find((m) => m.key === `alert-${paused.stepId}-${paused.seq}`);
    expect(alert?.broadcast).toBe(true);
    // The paused step sits in the message of the steps since the last question, with the buttons under it.
    const step = render.find((m) => buttonsOf(m).some((b) => b.action_id === ACTION.retry)) as OutboxMessage;
    expect(allText(step)).toContain(run.scenario.steps.find((s) => s.id === paused.stepId)?.title);
    expect(step.broadcast).toBeUndefined();
    expect(buttonsOf(step).map((b) => b.action_id)).toEqual([ACTION.retry, ACTION.skip, ACTION.abort]);
    // After the skip the alert says how the pause ended and the buttons are gone.
    const after = renderThread(run.events.slice(0, pausedAt + 3), run.scenario);
    expect(allText(after.find((m) => m.key === alert?.key) as OutboxMessage)).toContain(
      'Resolved: skipped by <@U04ANA>',
    );
    expect(buttonsOf(after.find((m) => m.key === step.key) as OutboxMessage)).toEqual([]);
  });

  it('a step that fails again after each Retry keeps one channel alert, updated with the count of failed Retries', () => {
    const w = new World();
    w.runtimeUp = false;
    w.traceMissing = true;
    let retries = 0;
    const run = drive(w, 'restart', {
      pause: (cmd) => {
        if (cmd.stepId === 'read_trace' && retries < 3) {
          retries += 1;
          return { retry: true };
        }
        return { skip: 'the known trace is gone; the checklist will tell' };
      },
    });
    const pauses = run.events.filter((e) => e.type === 'run_paused' && e.stepId === 'read_trace');
    expect(pauses).toHaveLength(4);
    const alertsAfter = (n: number) =>
      renderThread(run.events.slice(0, n), run.scenario).filter((m) => m.key.startsWith('alert-read_trace-'));
    // Every render while the step keeps failing holds one alert for it, under the key of the first pause.
    const firstKey = `alert-read_trace-${pauses[0]?.seq}`;
    for (const pause of pauses) {
      const alerts = alertsAfter(run.events.indexOf(pause) + 1);
      expect(alerts.map((m) => m.key)).toEqual([firstKey]);
      expect(alerts[0]?.broadcast).toBe(true);
    }
    const last = alertsAfter(run.events.indexOf(pauses[3] as RunEvent) + 1)[0] as OutboxMessage;
    expect(allText(last)).toContain('3 Retries failed, the last by <@U07BO>');
    expect(allText(last)).toContain('Retry, skip or abort in the thread.');
    const resolved = alertsAfter(run.events.length)[0] as OutboxMessage;
    expect(allText(resolved)).toContain('Resolved: skipped by <@U04ANA>');
  });

  it('shows a confirmed symptom as such, measured against expected, and leaves the raw calls to the run log', () => {
    const run = runOf('restart', 'recovered');
    const render = renderThread(run.events, run.scenario);
    const thread = render.map(allText).join('');
    expect(thread).toContain('*Confirmed:* healthz does not answer');
    expect(thread).toMatch(/GET \/api\/healthz: `no answer[^`]*`, expected `200`/);
    expect(thread).not.toContain(':x:');
    // Request ids, latencies and SQL stay in the events (and the summary file), not in the thread.
    const withRequestId = run.events.some(
      (e) => 'evidence' in e && e.evidence.some((x) => x.source.requestId !== undefined && x.source.requestId !== null),
    );
    expect(withRequestId).toBe(true);
    expect(thread).not.toContain('request_id');
    expect(thread).not.toContain('SQL `');
  });
});

describe('decisions', () => {
  const scenario: Scenario = getScenario('restart');
  const T = new Date('2026-03-07T12:00:00.000Z');

  /** A restart run asked to decide about an unreachable Postgres, built straight from events. */
  function askedToDecide(): RunEvent[] {
    const started = startRun(
      {
        runId: 'run-dec1',
        scenario: 'restart',
        tenantId: 'default',
        startedBy: ANA,
        params: { traceId: 't-1' },
        channelId: 'C0INC',
      },
      ACCESS,
      T,
    );
    if (!started.ok) throw new Error('start refused');
    const at = (n: number) => new Date(T.getTime() + n * 1000).toISOString();
    const events: RunEvent[] = [
      ...started.events,
      {
        type: 'decision_requested',
        runId: 'run-dec1',
        seq: 2,
        at: at(1),
        stepId: 'postgres_down',
        prompt: 'Postgres <!channel> is down',
        options: [
          {
            id: 'switch_postgres',
            label: 'Switch to the postgres scenario',
            recommended: true,
            effect: 'end:switched:postgres',
          },
          { id: 'restart_anyway', label: 'Restart the runtime anyway', needsReason: true, effect: 'continue' },
          { id: 'abort', label: 'Abort the run', effect: 'abort' },
        ],
        evidence: [
          {
            label: 'healthz',
            measured: 'unreachable <@U999>',
            expected: 200,
            ok: false,
            source: { kind: 'http', method: 'GET', path: '/api/healthz', status: null, requestId: null, latencyMs: 3 },
          },
        ],
      },
    ];
    return events;
  }

  it('offers a button per option: recommended primary, abort red with a confirm dialog, reasons asked with …', () => {
    const render = renderThread(askedToDecide(), scenario);
    const message = render.find((m) => m.key === 'step-postgres_down') as OutboxMessage;
    const buttons = buttonsOf(message);
    expect(buttons.map((b) => b.action_id)).toEqual(['dg.decide.0', 'dg.decide_reason.1', 'dg.decide.2']);
    for (const b of buttons) expect(b.action_id).toMatch(DECIDE_ACTION_PATTERN);
    expect(buttons[0]?.style).toBe('primary');
    expect(buttons[0]?.text.text.startsWith('★')).toBe(true);
    expect(buttons[0]?.confirm).toBeDefined();
    expect(buttons[1]?.text.text.endsWith('…')).toBe(true);
    expect(buttons[2]?.style).toBe('danger');
    expect(buttons[2]?.confirm).toMatchObject({ style: 'danger' });
    expect(buttons.map((b) => b.value)).toEqual([
      'run-dec1|postgres_down|switch_postgres|v2',
      'run-dec1|postgres_down|restart_anyway|v2',
      'run-dec1|postgres_down|abort|v2',
    ]);
  });

  it('escapes outside text: no mention or broadcast can be injected through a prompt, a value or a reason', () => {
    const events = askedToDecide();
    let state = foldRun(events);
    const decided = applyDecision(
      state,
      scenario,
      {
        stepId: 'postgres_down',
        optionId: 'restart_anyway',
        by: { id: 'U07BO', name: 'Bo <!here>', via: 'slack' },
        reason: 'ok <!channel> <https://evil.example|click> & <@U1>',
      },
      ACCESS,
      new Date(T.getTime() + 5000),
    );
    if (!decided.ok) throw new Error(decided.refusal.message);
    for (const e of decided.events) state = reduce(state, e);
    const render = renderThread([...events, ...decided.events], scenario);
    const text = render.map(allText).join('\n');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('<https://evil');
    expect(text).not.toContain('<@U999>');
    expect(text).not.toContain('<@U1>');
    expect(text).toContain('&lt;!channel&gt;');
  });

  it('after the decision the buttons give way to who decided what, when and why', () => {
    const events = askedToDecide();
    const decided = applyDecision(
      foldRun(events),
      scenario,
      {
        stepId: 'postgres_down',
        optionId: 'restart_anyway',
        by: { id: 'U07BO', name: 'Bo', via: 'slack' },
        reason: 'pg is back',
      },
      ACCESS,
      new Date(T.getTime() + 5000),
    );
    if (!decided.ok) throw new Error(decided.refusal.message);
    const render = renderThread([...events, ...decided.events], scenario);
    const message = render.find((m) => m.key === 'step-postgres_down') as OutboxMessage;
    expect(buttonsOf(message)).toEqual([]);
    const text = allText(message);
    expect(text).toContain('Decided* by <@U07BO>');
    expect(text).toContain('Restart the runtime anyway');
    expect(text).toContain('Reason: pg is back');
    expect(text).toMatch(/<!date\^\d+\^\{time_secs\}\|/);
  });

  it('a run without a channel renders nothing unless a default channel is given', () => {
    const started = startRun(
      {
        runId: 'run-cli1',
        scenario: 'restart',
        tenantId: 'default',
        startedBy: { ...ANA, via: 'cli' },
        params: { traceId: 't' },
      },
      ACCESS,
      T,
    );
    if (!started.ok) throw new Error('refused');
    expect(renderThread(started.events, scenario)).toEqual([]);
    const render = renderThread(started.events, scenario, { defaultChannel: 'C0DEF' });
    expect(render.map((m) => [m.key, m.channel])).toEqual([[HEADER_KEY, 'C0DEF']]);
  });
});

describe('approvals', () => {
  it('names who may approve, excludes the starter, and shows voided rounds', () => {
    for (const scenario of ['event-log', 'upgrade', 'projections'] as const) {
      const run = runOf(scenario, 'recovered');
      const requested = run.events.find((e) => e.type === 'approval_requested');
      if (requested?.type !== 'approval_requested') continue;
      const upTo = run.events.indexOf(requested) + 1;
      const render = renderThread(run.events.slice(0, upTo), run.scenario);
      const message = render.find((m) => m.key === `step-${requested.stepId}`) as OutboxMessage;
      const text = allText(message);
      expect(text).toContain(
        '*Waiting for* <@U07BO> to approve: only <@U07BO> may, not <@U04ANA>, who started the run (two-person rule).',
      );
      expect(message.text).toContain('· <@U07BO>');
      const [approve] = buttonsOf(message);
      expect(approve?.action_id).toBe(ACTION.approve);
      expect(approve?.value).toBe(`${run.state.runId}|${requested.stepId}|approve|v${requested.seq}`);
      expect(approve?.confirm).toBeDefined();
      const granted = run.events.find((e) => e.type === 'approval_granted' && e.stepId === requested.stepId);
      if (granted) {
        const after = renderThread(run.events.slice(0, run.events.indexOf(granted) + 1), run.scenario);
        const done = after.find((m) => m.key === message.key) as OutboxMessage;
        expect(buttonsOf(done)).toEqual([]);
        expect(allText(done)).toContain('approved by <@U07BO>');
        expect(allText(done)).toContain('*Who may approve:* only <@U07BO> may, not <@U04ANA>');
      }
    }
    const voided = SCENARIOS.flatMap((s) => KINDS.map((k) => runOf(s, k))).find((r) =>
      r.events.some((e) => e.type === 'approval_voided'),
    );
    // The event-log drill re-measures a changed state before a destructive step: its first approval is void.
    expect(voided).toBeDefined();
    const render = renderThread(voided?.events ?? [], (voided as Driven).scenario);
    expect(render.map(allText).join('')).toContain('*voided*');
  });
});

describe('approval reminders', () => {
  it('reminds the approvers (not the starter) once an approval has waited long enough, and says when it was answered', () => {
    const run = runOf('upgrade', 'recovered');
    const requested = run.events.find((e) => e.type === 'approval_requested');
    if (requested?.type !== 'approval_requested') throw new Error('the upgrade run asks for no approval');
    const open = run.events.slice(0, run.events.indexOf(requested) + 1);
    const asked = Date.parse(requested.at);
    const key = `remind-${requested.stepId}-r${requested.round}`;
    const early = renderThread(open, run.scenario, { now: new Date(asked + 60_000), reminderMs: 600_000 });
    expect(early.find((m) => m.key === key)).toBeUndefined();
    const late = renderThread(open, run.scenario, { now: new Date(asked + 600_000), reminderMs: 600_000 });
    const reminder = late.find((m) => m.key === key) as OutboxMessage;
    expect(allText(reminder)).toContain('<@U07BO>');
    expect(allText(reminder)).not.toContain('<@U04ANA>');
    expect(reminder.order).toBeGreaterThan(late.find((m) => m.key === `step-${requested.stepId}`)?.order ?? 0);
    expect(assertWithinLimits({ text: reminder.text, blocks: reminder.blocks })).toEqual([]);
    // Answered within the wait: no reminder at all, ever.
    const granted = run.events.find((e) => e.type === 'approval_granted' && e.stepId === requested.stepId);
    const answered = run.events.slice(0, run.events.indexOf(granted as RunEvent) + 1);
    const after = renderThread(answered, run.scenario, {
      now: new Date(asked + 3_600_000),
      reminderMs: 600_000,
    });
    expect(after.find((m) => m.key === key)).toBeUndefined();
  });
});

describe('reminders for every wait', () => {
  it('reminds the starter of a decision nobody answered, and says who answered it later', () => {
    const run = runOf('restart', 'recovered');
    const asked = run.events.find((e) => e.type === 'decision_requested');
    if (asked?.type !== 'decision_requested') throw new Error('the restart run asks for no decision');
    const open = run.events.slice(0, run.events.indexOf(asked) + 1);
    const key = `remind-decision-${asked.stepId}-${asked.seq}`;
    const at = Date.parse(asked.at);
    expect(
      renderThread(open, run.scenario, { now: new Date(at + 60_000), reminderMs: 600_000 }).find((m) => m.key === key),
    ).toBeUndefined();
    const late = renderThread(open, run.scenario, { now: new Date(at + 600_000), reminderMs: 600_000 });
    const reminder = late.find((m) => m.key === key) as OutboxMessage;
    expect(allText(reminder)).toContain('for a decision at');
    expect(reminder.text).toContain('<@U04ANA>');
    const header = late.find((m) => m.key === HEADER_KEY) as OutboxMessage;
    expect(allText(header)).toContain('*Waiting for*\\n<@U04ANA> (a decision)');
    const made = run.events.find((e) => e.type === 'decision_made' && e.seq > asked.seq) as RunEvent;
    const answered = { ...made, at: new Date(at + 700_000).toISOString() } as RunEvent;
    const after = renderThread([...open, answered], run.scenario, { now: new Date(at + 800_000), reminderMs: 600_000 });
    expect(allText(after.find((m) => m.key === key) as OutboxMessage)).toContain('Answered: decided by <@U04ANA>');
  });
});
