import { describe, expect, it } from 'vitest';
import { type JudgeContext, type ProjectionHealthMeasurement, runJudge } from '../../../src/runbook/index.js';
import { decideProgress } from '../../../src/runbook/judges/progress-rules.js';
import { judgeContext } from '../../helpers/judge-context.js';
import { failed, ok, projectionHealth } from './fixtures.js';

const behind = { cursors: { trace_summary: 2150 }, pending: { trace_summary: 18 } };
const idle = { active_workers: 0, active_replay_jobs: 0 };

describe('projection progress rules', () => {
  it('decides current at once, whatever runs on the node', () => {
    expect(decideProgress({ current: true, now: behind, projector: idle })).toMatchObject({ state: 'current' });
  });

  it('decides behind and not moving from one reading when no worker and no replay job runs', () => {
    expect(decideProgress({ current: false, now: behind, projector: idle })).toEqual({
      state: 'behind_not_moving',
      reason: 'idle_workers',
      moved: [],
    });
  });

  it('takes a second reading while a worker or a replay job could move a cursor, or healthz is unknown', () => {
    for (const projector of [
      { active_workers: 3, active_replay_jobs: 0 },
      { active_workers: 0, active_replay_jobs: 1 },
    ]) {
      expect(decideProgress({ current: false, now: behind, projector }).state).toBe('sampling');
    }
    expect(decideProgress({ current: false, now: behind })).toMatchObject({
      state: 'sampling',
      reason: 'needs_second_reading',
    });
  });

  it('calls a moved cursor catching up, and two still readings not moving', () => {
    const later = { cursors: { trace_summary: 2160 }, pending: { trace_summary: 8 } };
    const running = { active_workers: 1, active_replay_jobs: 0 };
    expect(decideProgress({ current: false, now: later, previous: behind, projector: running })).toEqual({
      state: 'catching_up',
      reason: 'cursor_moved',
      moved: ['trace_summary'],
    });
    expect(decideProgress({ current: false, now: behind, previous: behind, projector: running })).toMatchObject({
      state: 'behind_not_moving',
      reason: 'no_cursor_moved',
    });
  });
});

const NOW = new Date('2026-03-07T12:00:00.000Z');

function judge(m: ProjectionHealthMeasurement, over: Partial<JudgeContext> = {}) {
  return runJudge('projections.progress', m, judgeContext('dg.projection_health', { now: NOW, ...over }));
}

describe('projections.progress with healthz read alongside', () => {
  const stale = ok(projectionHealth({ cursors: { trace_summary: 2150 } }), 'GET', '/api/v1/projections/health');

  it('decides the idle-worker trap in one reading and says why', () => {
    const v = judge({ ...stale, projector: ok(idle, 'GET', '/api/healthz') });
    expect(v).toMatchObject({
      result: 'passed',
      outputs: { state: 'behind_not_moving', decidedBy: 'idle_workers', pendingTotal: 18 },
    });
    const labels = v.evidence.map((e) => e.label);
    expect(labels).toContain('healthz projector');
    expect(v.evidence.at(-1)).toMatchObject({ label: 'projection progress', ok: false });
    expect(v.evidence.at(-1)?.detail).toContain('one reading decides');
  });

  it('does not decide from a healthz that did not answer: it samples again', () => {
    const v = judge({ ...stale, projector: failed('DG_ERR_API_TIMEOUT', null, { transient: true }) });
    expect(v).toMatchObject({ result: 'waiting', outputs: { state: 'sampling' } });
    expect(v.evidence.find((e) => e.label === 'healthz projector')).toMatchObject({ ok: false });
  });

  it('keeps the second reading while workers run, and decides from the cursors', () => {
    const busy = ok({ active_workers: 2, active_replay_jobs: 0 }, 'GET', '/api/healthz');
    const first = judge({ ...stale, projector: busy });
    expect(first.result).toBe('waiting');
    const progress = first.result === 'waiting' ? first.progress : undefined;
    const moved = ok(projectionHealth({ cursors: { trace_summary: 2160 } }), 'GET', '/api/v1/projections/health');
    expect(judge({ ...moved, projector: busy }, { progress })).toMatchObject({
      result: 'passed',
      outputs: { state: 'catching_up', decidedBy: 'cursor_moved', pendingBefore: 18 },
    });
  });
});
