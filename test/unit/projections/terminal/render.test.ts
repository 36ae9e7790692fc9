import { describe, expect, it } from 'vitest';
import { renderLog } from '../../../../src/projections/terminal/render.js';
import { createStyle } from '../../../../src/projections/terminal/style.js';
import { getScenario, type RunEvent } from '../../../../src/runbook/index.js';

const plain = createStyle(false);
const restart = getScenario('restart');
const T0 = Date.parse('2026-03-07T12:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const alice = { id: 'alice', name: 'Alice Ops', via: 'cli' as const };

// biome-ignore lint/suspicious/noExplicitAny: test fixtures omit fields the discriminated union checks elsewhere
type Body = any;
function log(bodies: Body[]): RunEvent[] {
  return bodies.map(
    (b, i) => ({ runId: 'run-t1', seq: i + 1, at: at(b.ms ?? i * 1000), ...b, ms: undefined }) as RunEvent,
  );
}

const started: Body = {
  type: 'run_started',
  ms: 0,
  scenario: 'restart',
  scenarioVersion: 1,
  tenantId: 'default',
  startedBy: alice,
  params: { traceId: 'trace-0001' },
};

const healthzDown = {
  label: 'GET /api/healthz',
  measured: 'no answer (DG_ERR_API_UNREACHABLE)',
  expected: 200,
  ok: false,
  detail: 'DG_ERR_API_UNREACHABLE: GET /api/healthz: unreachable (ECONNREFUSED)',
  source: { kind: 'http', method: 'GET', path: '/api/healthz', status: null, requestId: null, latencyMs: 10 },
};

describe('the terminal view of a run', () => {
  it('prints a waiting step’s unmet checks at its first poll only, and its evidence once when it ends', () => {
    const healthzUp = { ...healthzDown, measured: 200, ok: true, detail: undefined };
    const repo = { label: 'healthz store repo_started?', measured: true, expected: true, ok: true, source: {} };
    const waiting = (poll: number, ms: number): Body => ({
      type: 'step_waiting',
      ms,
      stepId: 'wait_healthz',
      attempt: 1,
      poll,
      nextCheckAt: at(ms + 5000),
      outputs: {},
      evidence: [healthzDown, { ...repo, source: { kind: 'http' } }],
    });
    const lines = renderLog(
      log([
        started,
        { type: 'step_started', ms: 1000, stepId: 'wait_healthz', attempt: 1 },
        waiting(1, 2000),
        waiting(2, 7000),
        waiting(3, 12000),
        { type: 'step_passed', ms: 17000, stepId: 'wait_healthz', attempt: 1, outputs: {}, evidence: [healthzUp] },
      ]),
      { style: plain, scenario: restart },
    ).join('\n');
    expect(lines.match(/GET \/api\/healthz: no answer/g)).toHaveLength(1);
    expect(lines).not.toContain('repo_started?');
    expect(lines).toContain('not yet (check 3); 1 check(s) still unmet; next check in 5 s');
    expect(lines.match(/GET \/api\/healthz: 200/g)).toHaveLength(1);
  });

  it('shows a passed step with its position, title, duration and evidence measured against expected', () => {
    const events = log([
      started,
      { type: 'step_started', ms: 1000, stepId: 'wait_healthz', attempt: 1, deadlineAt: at(301_000) },
      {
        type: 'step_passed',
        ms: 3500,
        stepId: 'wait_healthz',
        attempt: 1,
        outputs: {},
        evidence: [
          {
            label: 'GET /api/healthz',
            measured: 200,
            expected: 200,
            ok: true,
            source: {
              kind: 'http',
              method: 'GET',
              path: '/api/healthz',
              status: 200,
              requestId: 'req-7',
              latencyMs: 12,
            },
          },
          {
            label: 'healthz store repo_started?',
            measured: true,
            expected: true,
            ok: true,
            source: {
              kind: 'http',
              method: 'GET',
              path: '/api/healthz',
              status: 200,
              requestId: 'req-7',
              latencyMs: 12,
            },
          },
        ],
      },
    ]);
    expect(renderLog(events, { style: plain, scenario: restart })).toEqual([
      'Run run-t1: restart — App node restart or host reboot',
      '    tenant default, started by Alice Ops (alice) via the terminal; traceId trace-0001',
      '+00:00:01 → [6/16] Wait until healthz answers 200 (wait_healthz) — deadline in 5 min',
      '+00:00:03 ✓ Wait until healthz answers 200 (wait_healthz) passed in 2.5 s',
      '    ✓ GET /api/healthz: 200 (expected 200)',
      '      GET /api/healthz → 200, 12 ms, request req-7',
      // The same call's source is named once.
      '    ✓ healthz store repo_started?: true (expected true)',
    ]);
  });

  it('shows a failed measurement with no answer, and a transient failure with its retry', () => {
    const events = log([
      started,
      { type: 'step_started', ms: 0, stepId: 'read_trace', attempt: 1 },
      {
        type: 'step_failed',
        ms: 2000,
        stepId: 'read_trace',
        attempt: 1,
        error: { code: 'DG_ERR_API_UNREACHABLE', message: 'healthz did not answer' },
        transient: true,
        retryAt: at(7000),
        evidence: [healthzDown],
      },
    ]);
    const lines = renderLog(events, { style: plain, scenario: restart });
    expect(lines.slice(3)).toEqual([
      '+00:00:02 ✗ Read the known trace (read_trace) failed: healthz did not answer [DG_ERR_API_UNREACHABLE] — transient, retrying in 5 s',
      '    ✗ GET /api/healthz: no answer (DG_ERR_API_UNREACHABLE) (expected 200)',
      '      GET /api/healthz → no answer, 10 ms',
      '      DG_ERR_API_UNREACHABLE: GET /api/healthz: unreachable (ECONNREFUSED)',
    ]);
  });

  it('numbers the options of a decision, marks the recommended one, and shows who chose what and why', () => {
    const events = log([
      started,
      {
        type: 'decision_requested',
        ms: 4000,
        stepId: 'catch_up_decision',
        prompt: 'Projections have pending events and no cursor moved between two readings.',
        options: [
          { id: 'catch_up', label: 'Request a catch_up replay', recommended: true, effect: 'continue' },
          { id: 'wait', label: 'No replay: wait for writes', needsReason: true, effect: 'continue' },
        ],
        evidence: [],
      },
      {
        type: 'decision_made',
        ms: 9000,
        stepId: 'catch_up_decision',
        optionId: 'wait',
        by: alice,
        reason: 'writers resume at 13:00',
      },
    ]);
    expect(renderLog(events, { style: plain, scenario: restart }).slice(2)).toEqual([
      '+00:00:04 ? Decision: Projections are behind and not moving (catch_up_decision)',
      '    Projections have pending events and no cursor moved between two readings.',
      '    1) Request a catch_up replay — recommended',
      '    2) No replay: wait for writes — reason required',
      '+00:00:09 ⇒ Alice Ops (alice) chose "No replay: wait for writes": writers resume at 13:00',
    ]);
  });

  it('says who may approve, who may not, and what the approval lets run', () => {
    const events = log([
      { ...started, scenario: 'projections' },
      {
        type: 'approval_requested',
        ms: 0,
        stepId: 'approve_rebuild',
        round: 1,
        guards: 'start_rebuild',
        prompt: 'A rebuild deletes the projection rows of this tenant.',
        approvers: null,
        excluded: ['alice'],
        fingerprint: 'fp-1',
        evidence: [],
      },
      {
        type: 'approval_granted',
        ms: 2000,
        stepId: 'approve_rebuild',
        round: 1,
        by: { id: 'bob', via: 'cli' },
        fingerprint: 'fp-1',
      },
    ]);
    expect(renderLog(events, { style: plain, scenario: getScenario('projections') }).slice(2)).toEqual([
      '+00:00:00 ! Approval needed: Approve the rebuild (approve_rebuild)',
      '    A rebuild deletes the projection rows of this tenant.',
      '    It lets Request the rebuild (start_rebuild) run. May approve: anyone, not alice.',
      '+00:00:02 ✓ approved by bob; what they saw is measured again before Request the rebuild (start_rebuild) runs',
    ]);
  });

  it('ends with the outcome and the checklist conditions that failed', () => {
    const events = log([
      started,
      {
        type: 'run_finished',
        ms: 65_000,
        outcome: 'failed',
        reason: 'the checklist did not pass',
        gate: {
          stepId: 'gate',
          passed: false,
          failing: [{ condition: 'pending_events', detail: 'trace_summary 3 behind', measured: 3, expected: 0 }],
        },
      },
    ]);
    expect(renderLog(events, { style: plain, scenario: restart }).slice(2)).toEqual([
      '+00:01:05 ■ Run finished: FAILED after 1 min 5 s: the checklist did not pass',
      '    recovery checklist did not pass',
      '    ✗ pending_events: trace_summary 3 behind (measured 3, expected 0)',
    ]);
  });

  it('never passes terminal control sequences through from text people or servers wrote', () => {
    const events = log([
      started,
      { type: 'run_aborted', ms: 1000, by: alice, reason: 'stop\u001b[2J\u001b]0;pwned\u0007 now' },
    ]);
    const text = renderLog(events, { style: plain }).join('\n');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u0007');
    expect(text).toContain('aborted by Alice Ops (alice): stop[2J]0;pwned now');
  });

  it('colours only when asked to', () => {
    const events = log([started, { type: 'step_started', stepId: 'check_healthz', attempt: 1 }]);
    const coloured = renderLog(events, { style: createStyle(true), scenario: restart }).join('\n');
    const uncoloured = renderLog(events, { style: plain, scenario: restart }).join('\n');
    expect(coloured).toContain('\u001b[');
    expect(uncoloured).not.toContain('\u001b[');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the colour codes
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(uncoloured);
  });
});
