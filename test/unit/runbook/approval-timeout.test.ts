import { describe, expect, it } from 'vitest';
import {
  applyAbort,
  applyApproval,
  applyRetry,
  applySkip,
  DEFAULT_APPROVAL_TIMEOUT_MS,
  decideNext,
  type EngineCommand,
  expireApproval,
  foldRun,
  OPEN_ACCESS,
} from '../../../src/runbook/index.js';
import { ACCESS, APPROVER, append, type Drive, eventsOf, STARTER, start, step } from './driver.js';
import { World } from './world.js';

type AwaitApproval = Extract<EngineCommand, { type: 'await_approval' }>;

/** An event-log run driven to its first approval (stopping writes), left open. */
function atFirstApproval(timeoutMs?: number): { d: Drive; cmd: AwaitApproval } {
  const w = new World();
  w.integrity = { payload_hash_drift: 2 };
  const d = start(w, 'event-log');
  if (timeoutMs !== undefined) d.engine = { approvalTimeoutMs: timeoutMs };
  for (let i = 0; i < 50; i++) {
    const cmd = step(d, { approve: () => 'stop' });
    if (cmd === 'stop') {
      const last = d.commands.at(-1);
      if (last?.type !== 'await_approval') throw new Error(`stopped at ${last?.type}`);
      return { d, cmd: last };
    }
  }
  throw new Error('no approval was asked');
}

function later(iso: string, ms = 0): Date {
  return new Date(Date.parse(iso) + ms);
}

describe('an approval nobody gives', () => {
  it('carries its expiry: one delayed check per round, due the approval timeout after the request', () => {
    const { d, cmd } = atFirstApproval();
    const requestedAt = d.state.pendingApproval?.requestedAt as string;
    expect(cmd).toMatchObject({
      stepId: 'approve_stop_writes',
      round: 1,
      expiresAt: later(requestedAt, DEFAULT_APPROVAL_TIMEOUT_MS).toISOString(),
      expiryJobId: 'run-1-approve_stop_writes-r1-expiry',
    });
    expect(cmd.expiryDelayMs).toBe(Date.parse(cmd.expiresAt) - d.now.getTime());
    expect(cmd.expiryJobId).not.toContain(':');
    // Asked again later, the same check is wanted, only nearer.
    const again = decideNext(d.state, d.scenario, later(requestedAt, 60_000), { access: ACCESS });
    expect(again.command).toMatchObject({
      expiryJobId: cmd.expiryJobId,
      expiryDelayMs: DEFAULT_APPROVAL_TIMEOUT_MS - 60_000,
    });
  });

  it('expires at its time, pausing the run with Retry and Abort and naming who could have approved', () => {
    const { d, cmd } = atFirstApproval();
    const round = { stepId: cmd.stepId, round: cmd.round };
    const early = expireApproval(d.state, d.scenario, later(cmd.expiresAt, -1), {}, round);
    expect(early).toEqual({ kind: 'not_due', expiresAt: cmd.expiresAt });

    d.now = new Date(cmd.expiresAt);
    const out = expireApproval(d.state, d.scenario, d.now, {}, round);
    if (out.kind !== 'expired') throw new Error(`not expired: ${out.kind}`);
    append(d, out.events);
    expect(out.events.map((e) => e.type)).toEqual(['approval_expired', 'run_paused']);
    expect(eventsOf(d, 'approval_expired')).toMatchObject([
      { stepId: 'approve_stop_writes', round: 1, approvers: ['U034DEF'], timeoutMs: 3_600_000 },
    ]);
    const pause = eventsOf(d, 'run_paused')[0];
    expect(pause).toMatchObject({ stepId: 'approve_stop_writes', options: ['retry', 'abort'] });
    expect(pause?.reason).toBe(
      'approval timed out after 1 h; nobody of U034DEF approved. Stop writes has not run. Retry asks for the ' +
        'approval again; Abort ends the run.',
    );
    expect(d.state).toMatchObject({ status: 'paused', pendingApproval: null });
    expect(d.state.steps.approve_stop_writes?.status).toBe('pending');
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toMatchObject({
      type: 'paused',
      stepId: 'approve_stop_writes',
      options: ['retry', 'abort'],
      retryNeedsApprover: false,
    });
    // The log refolds to the same state.
    expect(foldRun(d.events)).toEqual(d.state);
    // Nothing expires twice; a late approval finds nothing to approve; Skip is not offered.
    expect(expireApproval(d.state, d.scenario, later(cmd.expiresAt, 1000), {}, round)).toMatchObject({
      kind: 'stale',
    });
    const late = applyApproval(d.state, d.scenario, { stepId: cmd.stepId, by: APPROVER }, ACCESS, d.now);
    expect(late).toMatchObject({ ok: false, refusal: { code: 'not_pending' } });
    const skip = applySkip(d.state, d.scenario, { by: STARTER, reason: 'no time' }, ACCESS, d.now);
    expect(skip).toMatchObject({ ok: false, refusal: { code: 'not_offered' } });
  });

  it('asks again on Retry, as the next round with its own expiry, and the run goes on once approved', () => {
    const { d, cmd } = atFirstApproval();
    d.now = new Date(cmd.expiresAt);
    const out = expireApproval(d.state, d.scenario, d.now);
    if (out.kind !== 'expired') throw new Error('not expired');
    append(d, out.events);
    const retry = applyRetry(d.state, d.scenario, { by: STARTER }, ACCESS, d.now);
    if (!retry.ok) throw new Error(retry.refusal.message);
    append(d, retry.events);
    const next = decideNext(d.state, d.scenario, d.now, { access: ACCESS });
    append(d, next.events);
    expect(next.command).toMatchObject({
      type: 'await_approval',
      stepId: 'approve_stop_writes',
      round: 2,
      expiryJobId: 'run-1-approve_stop_writes-r2-expiry',
      expiresAt: later(d.now.toISOString(), DEFAULT_APPROVAL_TIMEOUT_MS).toISOString(),
    });
    // The check scheduled for round 1 finds round 2 open and leaves it alone.
    expect(
      expireApproval(
        d.state,
        d.scenario,
        later(d.now.toISOString(), 7_200_000),
        {},
        {
          stepId: 'approve_stop_writes',
          round: 1,
        },
      ),
    ).toMatchObject({ kind: 'stale', reason: 'the open approval is approve_stop_writes round 2' });
    for (let i = 0; i < 3; i++) step(d);
    expect(eventsOf(d, 'approval_granted')).toMatchObject([{ stepId: 'approve_stop_writes', round: 2 }]);
    expect(d.state.steps.approve_stop_writes?.status).toBe('passed');
    expect(d.state.steps.stop_writes?.status).toBe('passed');
    expect(d.world.writesStopped).toBe(true);
  });

  it('ends the run on Abort', () => {
    const { d, cmd } = atFirstApproval();
    const out = expireApproval(d.state, d.scenario, new Date(cmd.expiresAt));
    if (out.kind !== 'expired') throw new Error('not expired');
    append(d, out.events);
    const abort = applyAbort(d.state, { by: STARTER, reason: 'nobody reachable' }, ACCESS, d.now);
    if (!abort.ok) throw new Error(abort.refusal.message);
    append(d, abort.events);
    expect(decideNext(d.state, d.scenario, d.now, { access: ACCESS }).command).toMatchObject({
      type: 'finished',
      outcome: 'aborted',
    });
    expect(d.world.writesStopped).toBe(false);
  });

  it('never expires once approved, even while the approved measurement is re-checked', () => {
    const { d, cmd } = atFirstApproval();
    const ok = applyApproval(d.state, d.scenario, { stepId: cmd.stepId, by: APPROVER }, ACCESS, d.now);
    if (!ok.ok) throw new Error(ok.refusal.message);
    append(d, ok.events);
    expect(expireApproval(d.state, d.scenario, later(cmd.expiresAt, 1))).toEqual({
      kind: 'stale',
      reason: 'approve_stop_writes was approved',
    });
  });

  it('follows the configured timeout, and says who could have approved when anyone could', () => {
    const { d, cmd } = atFirstApproval(30 * 60_000);
    expect(Date.parse(cmd.expiresAt) - Date.parse(d.state.pendingApproval?.requestedAt ?? '')).toBe(1_800_000);
    const out = expireApproval(d.state, d.scenario, new Date(cmd.expiresAt), { approvalTimeoutMs: 1_800_000 });
    expect(out.kind).toBe('expired');
    if (out.kind !== 'expired') return;
    expect(out.events[1]).toMatchObject({ reason: expect.stringMatching(/^approval timed out after 30 min; /) });

    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const open = start(w, 'event-log');
    for (let i = 0; i < 50 && open.state.pendingApproval === null; i++) {
      const next = decideNext(open.state, open.scenario, open.now, { access: OPEN_ACCESS });
      append(open, next.events);
      if (next.command.type === 'await_approval') break;
      step(open);
    }
    const timedOut = expireApproval(open.state, open.scenario, later(open.now.toISOString(), 4_000_000));
    expect(timedOut).toMatchObject({
      kind: 'expired',
      events: [
        { type: 'approval_expired', approvers: null },
        { type: 'run_paused', reason: expect.stringContaining('nobody approved (anyone but U012ABC could have)') },
      ],
    });
  });
});
