import type { RespondArguments } from '@slack/bolt';
import { describe, expect, it, vi } from 'vitest';
import { type DgCommandArgs, handleDgCommand } from '../../../src/handlers/dg-command.js';
import { historyReply } from '../../../src/handlers/history-reply.js';
import { runStatusReply, statusReply } from '../../../src/handlers/status-reply.js';
import type { HistoryEntry } from '../../../src/projections/run-history.js';
import { incidentGist } from '../../../src/projections/thread/summary-message.js';
import { healthVerdict } from '../../../src/runbook/health-verdict.js';
import type { ChecklistMeasurement } from '../../../src/runbook/measurements.js';
import { assertWithinLimits } from '../../../src/slack/blocks/validate.js';
import type { HealthReading } from '../../../src/triage/index.js';
import { RUNS } from '../projections/summary/runs.js';
import { healthz, projectionHealth, unreachable } from '../runbook/fixtures.js';
import { CHANNEL, depsWith, fakeService, OPERATOR } from './fakes.js';

const RUN_ID = 'run-0a1b2c3d4e';

/** A reading as `readHealth` gives it: projections behind the tail, nothing else wrong. */
function behindReading(): HealthReading {
  const ph = projectionHealth({ tail: 2168, cursors: { trace_summary: 2150, precedent_index: 2100 } });
  const measurement = {
    healthz: healthz(),
    projectionHealth: { ...healthz(), data: ph },
  } as unknown as ChecklistMeasurement;
  const verdict = healthVerdict({
    healthz: healthz(),
    projectionHealth: { ok: true, data: ph },
    sql: { cursorAhead: [], openRuns: [] },
  });
  return { measurement, verdict };
}

function reply(text: string, userId = OPERATOR) {
  const acks: Array<string | RespondArguments | undefined> = [];
  const responses: Array<RespondArguments & { blocks?: unknown[] }> = [];
  const a: DgCommandArgs = {
    command: { text, user_id: userId, user_name: 'ana', channel_id: CHANNEL },
    ack: vi.fn(async (r?: string | RespondArguments) => {
      acks.push(r);
    }),
    respond: vi.fn(async (m: RespondArguments) => {
      responses.push(m as RespondArguments & { blocks?: unknown[] });
    }),
  };
  return { a, acks, responses };
}

const shown = (m: { text?: string; blocks?: unknown[] } | undefined) => JSON.stringify({ t: m?.text, b: m?.blocks });

describe('/dg status: DecisionGraph at a glance', () => {
  it('shows the checklist verdict with each failing condition, measured against expected, and the active runs', async () => {
    const { service } = fakeService();
    service.listActive.mockResolvedValue([
      {
        runId: RUN_ID,
        scenario: 'restart',
        tenantId: 'default',
        status: 'waiting_decision',
        currentStep: 'catch_up_decision',
      },
    ]);
    const health = vi.fn(async () => behindReading());
    const { deps } = depsWith(service, { health, stateNote: 'Run state: Redis at 127.0.0.1:6379' });
    const { a, acks, responses } = reply('status');
    await handleDgCommand(a, deps);
    expect(acks).toEqual([undefined]);
    const answer = responses[0];
    expect(answer?.response_type).toBe('ephemeral');
    const text = shown(answer);
    expect(text).toContain('DecisionGraph is not healthy');
    expect(text).toContain('`projection_stale`');
    expect(text).toContain('`pending_events`');
    // measured vs expected, compactly: the projections' cursors against the tail.
    expect(text).toContain('measured `precedent_index: 2100, trace_summary: 2150` · expected `last_log_seq: 2168`');
    expect(text).toContain('measured `precedent_index: 68, trace_summary: 18` · expected `0`');
    // The run with its current step's title, and where the state lives.
    expect(text).toContain('One run is active');
    expect(text).toContain('catch_up_decision');
    expect(text).toContain('Redis at 127.0.0.1:6379');
    expect(assertWithinLimits({ text: answer?.text, blocks: answer?.blocks })).toEqual([]);
  });

  it('says healthy, and what the verdict could not check', () => {
    const verdict = healthVerdict({ healthz: healthz(), projectionHealth: { ok: true, data: projectionHealth() } });
    const r = statusReply({
      health: { kind: 'reading', reading: { measurement: {} as ChecklistMeasurement, verdict } },
      runs: [],
    });
    const text = JSON.stringify(r.blocks);
    expect(text).toContain('DecisionGraph is healthy');
    expect(text).toContain('Not checked (no input): `cursor_ahead`');
    expect(text).toContain('No recovery run is active');
  });

  it('never calls DecisionGraph healthy while an event-log run is open, and says who each run waits for', () => {
    const verdict = healthVerdict({ healthz: healthz(), projectionHealth: { ok: true, data: projectionHealth() } });
    const r = statusReply({
      health: { kind: 'reading', reading: { measurement: {} as ChecklistMeasurement, verdict } },
      runs: [
        {
          runId: RUN_ID,
          scenario: 'event-log',
          tenantId: 'default',
          status: 'waiting_approval',
          currentStep: 'approve_stop_writes',
          waiting: {
            kind: 'approval',
            stepId: 'approve_stop_writes',
            since: '2026-03-01T03:04:00.000Z',
            call: ['U0BO', 'S0OPS'],
          },
        },
      ],
      stepTitle: () => 'Approve stopping writes',
    });
    const text = JSON.stringify(r.blocks);
    expect(text).not.toContain('DecisionGraph is healthy');
    expect(text).toContain(
      `*DecisionGraph is not known healthy*: the checklist passes, but the event-log recovery \`${RUN_ID}\` is still open`,
    );
    expect(text).toContain('at *Approve stopping writes* (`approve_stop_writes`); waits since <!date^');
    expect(text).toContain('for <@U0BO>, <!subteam^S0OPS> (an approval)');
  });

  it('says healthz did not answer when DecisionGraph is down', () => {
    const verdict = healthVerdict({
      healthz: unreachable(),
      projectionHealth: unreachable('/api/v1/projections/health'),
    });
    const r = statusReply({
      health: { kind: 'reading', reading: { measurement: {} as ChecklistMeasurement, verdict } },
      runs: [],
    });
    expect(r.text).toContain('healthz did not answer');
    expect(JSON.stringify(r.blocks)).toContain('`healthz_unreachable`');
  });

  it('stays within Block Kit limits however many conditions fail and runs are active', () => {
    const verdict = {
      healthy: false,
      unchecked: [],
      failing: Array.from({ length: 60 }, (_, i) => ({
        condition: 'projection_stale' as const,
        detail: `projection_${i} ${'x'.repeat(400)} <!channel>`,
        measured: { [`projection_${i}`]: i, more: 'y'.repeat(300) },
        expected: { last_log_seq: 100 },
      })),
    };
    const runs = Array.from({ length: 80 }, (_, i) => ({
      runId: `run-${String(i).padStart(10, '0')}`,
      scenario: 'restart',
      tenantId: 't'.repeat(60),
      status: 'running',
      currentStep: 'check_healthz',
    }));
    const r = statusReply({
      health: { kind: 'reading', reading: { measurement: {} as ChecklistMeasurement, verdict } },
      runs,
      stepTitle: () => 'Check healthz',
    });
    expect(assertWithinLimits(r)).toEqual([]);
    expect(JSON.stringify(r.blocks)).toContain('more: `/dg diagnose` reads every probe');
    expect(JSON.stringify(r)).not.toContain('<!channel>');
  });

  it('answers without the verdict, saying so, when the probes do not finish in time', async () => {
    const { service } = fakeService();
    const health = vi.fn(() => new Promise<HealthReading>(() => undefined));
    const { deps } = depsWith(service, { health, healthTimeoutMs: 30 });
    const { a, responses } = reply('status');
    await handleDgCommand(a, deps);
    expect(shown(responses[0])).toContain("DecisionGraph's health could not be read");
    expect(shown(responses[0])).toContain('did not answer within 30 ms');
    expect(shown(responses[0])).toContain('No recovery run is active');
  });

  it('shows one run as its thread header shows it, without buttons', async () => {
    const events = RUNS.restart.recovered().events.map((e) => ({ ...e, runId: RUN_ID }));
    const { service } = fakeService(events);
    const { deps } = depsWith(service);
    const { a, responses } = reply(`status ${RUN_ID}`);
    await handleDgCommand(a, deps);
    const answer = responses[0];
    const blocks = JSON.stringify(answer?.blocks);
    expect(blocks).toContain('Recovery: App node restart or host reboot');
    expect(blocks).toContain('Recovered');
    expect(blocks).toContain(`/dg summary ${RUN_ID}`);
    expect(blocks).not.toContain('"type":"actions"');
    expect(assertWithinLimits({ text: answer?.text, blocks: answer?.blocks })).toEqual([]);
  });
});

describe('/dg status <run> on a paused run', () => {
  it('says where it is paused and why, and sends the person to the thread to answer', () => {
    const run = RUNS.restart.failed();
    const paused = run.events.findIndex((e) => e.type === 'run_paused');
    const r = runStatusReply(run.events.slice(0, paused + 1), run.scenario);
    const shown = JSON.stringify(r.blocks);
    expect(shown).toContain('*Paused* at');
    expect(shown).toContain("Retry, skip or abort in the run's thread.");
    expect(shown).not.toContain('below');
    expect(r.text).toContain('Paused');
    expect(assertWithinLimits(r)).toEqual([]);
  });
});

describe('/dg history', () => {
  function entry(kind: 'recovered' | 'failed' | 'aborted', i = 0): HistoryEntry {
    const run = RUNS.restart[kind]();
    const s = run.state;
    return {
      runId: `run-${String(i).padStart(10, '0')}`,
      scenario: s.scenario,
      tenantId: s.tenantId,
      status: kind === 'aborted' ? 'aborted' : 'finished',
      outcome: s.outcome?.outcome ?? null,
      startedAt: s.startedAt,
      finishedAt: s.outcome?.at ?? null,
      gist: incidentGist(run.events, run.scenario),
    };
  }

  it('lists each run with its outcome, duration, the gist of its summary and how to get the whole of it', async () => {
    const { service } = fakeService();
    const entries = [entry('recovered', 1), entry('failed', 2), entry('aborted', 3)];
    const history = vi.fn(async () => entries);
    const { deps } = depsWith(service, { history });
    const { a, responses } = reply('history 3');
    await handleDgCommand(a, deps);
    expect(history).toHaveBeenCalledWith(3);
    const blocks = JSON.stringify(responses[0]?.blocks);
    expect(blocks).toContain('*recovered*, took');
    expect(blocks).toMatch(/took 2 min 24 s, started [^\n]+\\n {6}healthy 2 min 24 s in; 14 of 16 steps passed/);
    expect(blocks).toContain('*failed*');
    expect(blocks).toContain('*aborted*');
    expect(blocks).toContain('Aborted by Ana Ops at');
    expect(blocks).toContain('Restart the DecisionGraph runtime');
    for (const e of entries) expect(blocks).toContain(`/dg summary ${e.runId}`);
    expect(responses[0]?.text).toContain('run-0000000001');
  });

  it('fits fifty runs into one message, counting those left out', () => {
    const many = Array.from({ length: 50 }, (_, i) => entry(i % 2 === 0 ? 'failed' : 'aborted', i));
    const r = historyReply(many);
    expect(assertWithinLimits(r)).toEqual([]);
    const text = JSON.stringify(r.blocks);
    expect(text).toContain('run-0000000000');
    expect(text).toMatch(/older run\(s\) did not fit in one message/);
  });

  it('lists a run whose log could not be read without a gist', () => {
    const { gist: _gist, ...bare } = entry('recovered');
    const r = historyReply([{ ...bare, finishedAt: null, outcome: null, status: 'running' }]);
    expect(JSON.stringify(r.blocks)).toContain('*running*, started');
    expect(assertWithinLimits(r)).toEqual([]);
  });
});
