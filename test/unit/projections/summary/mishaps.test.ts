import { describe, expect, it } from 'vitest';
import {
  buildIncidentSummary,
  renderSummaryBlocks,
  renderSummaryMarkdown,
} from '../../../../src/projections/summary/index.js';
import { applyAbort, INTERRUPTION_OPTIONS, loadScenarios, type RunEvent } from '../../../../src/runbook/index.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { apply, run } from '../../../helpers/engine-drive.js';
import { World } from '../../../helpers/engine-world.js';
import { ACCESS, ANA, BO } from './drive.js';
import { dieInside, EVENT_LOG_COMMANDS, expireApprovalOf, interruptedEventLog, startWith } from './mishaps.js';

// What the incident record says about an action interrupted when the bot stopped, and about an approval nobody
// gave in time: in the body, not only in the timeline.

const CATALOG = [...loadScenarios().values()];
const summarize = (events: readonly RunEvent[]) => buildIncidentSummary(events, CATALOG);

function damagedLog(): World {
  const w = new World();
  w.integrity = { payload_hash_drift: 2 };
  return w;
}

describe('an interrupted action in the incident summary', () => {
  it('says who said it finished, when and why: under the step, the decision and the host action', () => {
    const s = summarize(interruptedEventLog(damagedLog()).events);
    const stop = s.steps.find((x) => x.id === 'stop_writes');
    expect(stop).toMatchObject({
      outcome: 'passed',
      interruptions: [
        {
          attempt: 1,
          actionMode: 'command',
          handling: 'ask',
          answer: {
            optionId: 'done',
            optionLabel: 'It finished: mark it done',
            by: ANA,
            reason: 'the load balancer serves the maintenance page; no writes in the access log since 10:02',
          },
        },
      ],
    });
    expect(s.decisions[0]).toMatchObject({ stepId: 'stop_writes', interruptedAttempt: 1, by: ANA });
    expect(s.decisions.slice(1).every((d) => d.interruptedAttempt === undefined)).toBe(true);
    expect(s.hostActions.find((h) => h.stepId === 'stop_writes')).toMatchObject({
      outcome: 'reported done',
      means: 'command',
      by: ANA,
      note: 'the load balancer serves the maintenance page; no writes in the access log since 10:02',
    });
    const md = renderSummaryMarkdown(s);
    expect(md).toContain(
      '- **1. Stop writes**, interrupted attempt 1: "It finished: mark it done" by Ana Ops (`U04ANA`) at +00:04:39',
    );
    expect(md).toContain('so it recommended nothing: a person looked and chose.');
    const blocks = JSON.stringify(renderSummaryBlocks(s).blocks);
    expect(blocks).toContain('Stop writes (interrupted attempt 1): \\"It finished: mark it done\\"');
    expect(blocks).toContain('5. Stop writes: passed, 2 min 22 s, interrupted');
  });

  it('says who chose to run it again and why, and that it ran as a second attempt', () => {
    const d = startWith(damagedLog(), 'event-log', EVENT_LOG_COMMANDS);
    dieInside(d, 'stop_writes');
    run(d, {
      decide: (cmd) =>
        cmd.item?.id === 'a1'
          ? { optionId: INTERRUPTION_OPTIONS.runAgain, reason: 'the command log stops half-way', by: BO }
          : undefined,
    });
    expect(d.world.hostCalls.stop_writes).toBe(2);
    const s = summarize(d.events);
    expect(s.hostActions.find((h) => h.stepId === 'stop_writes')).toMatchObject({ outcome: 'done', means: 'command' });
    const md = renderSummaryMarkdown(s);
    expect(md).toMatch(/\*\*5\. Stop writes\*\* \(`stop_writes`, action, destructive\): passed in .*, 2 attempts,/);
    expect(md).toContain(
      'the bot stopped while it ran and could not tell whether it finished; Bo On-Call (`U07BO`) answered "Run it ' +
        'again" at ',
    );
    expect(md).toContain(', reason: the command log stops half-way.');
    expect(md).toContain('- **1. Stop writes**, interrupted attempt 1: "Run it again" by Bo On-Call (`U07BO`)');
  });

  it('left unanswered when the run ended: a follow-up says what to check on the host', () => {
    const d = startWith(damagedLog(), 'event-log', EVENT_LOG_COMMANDS);
    dieInside(d, 'preserve_database');
    apply(d, applyAbort(d.state, { by: ANA, reason: 'the storage team takes over' }, ACCESS, d.now));
    run(d);
    const s = summarize(d.events);
    expect(s.outcome).toBe('aborted');
    expect(s.steps.find((x) => x.id === 'preserve_database')).toMatchObject({
      outcome: 'interrupted',
      interruptions: [{ attempt: 1, handling: 'ask' }],
    });
    expect(s.hostActions.find((h) => h.stepId === 'preserve_database')).toMatchObject({
      outcome: 'not confirmed',
      means: 'command',
    });
    const md = renderSummaryMarkdown(s);
    expect(md).toContain('and could not tell whether it finished; nobody answered.');
    expect(s.followUps.find((f) => f.id === 'decision_pending')?.text.join('')).toMatch(
      /^Nobody said whether "Preserve the broken database" \(attempt 1, interrupted when the bot stopped, asked at \+\d\d:\d\d:\d\d\) had finished: check whether the copy of the broken database exists and is complete/,
    );
  });

  it('says what a re-check found when the bot could probe the effect', () => {
    const w = new World();
    w.runtimeUp = false;
    const d = startWith(w, 'restart', { restart_runtime: 'command' });
    dieInside(d, 'restart_runtime');
    run(d);
    const s = summarize(d.events);
    expect(s.outcome).toBe('recovered');
    expect(w.hostCalls.restart_runtime).toBe(1);
    expect(s.steps.find((x) => x.id === 'restart_runtime')?.interruptions).toMatchObject([
      { attempt: 1, handling: 'recheck', alreadyDone: true },
    ]);
    expect(renderSummaryMarkdown(s)).toMatch(
      /- Interrupted at \+\d\d:\d\d:\d\d \(attempt 1, run as a command\): the bot stopped while it ran; its effect was checked before repeating it: found, so it was not repeated\./,
    );
  });

  it('says a webhook that is not destructive was sent again under the same Idempotency-Key', () => {
    const d = startWith(damagedLog(), 'event-log', { ...EVENT_LOG_COMMANDS, restart_runtime: 'http' });
    d.world.modes.restart_runtime = 'http';
    dieInside(d, 'restart_runtime');
    run(d);
    const md = renderSummaryMarkdown(summarize(d.events));
    expect(md).toContain(
      '(attempt 1, sent as a webhook): the bot stopped while it ran; the webhook was sent again under the same ' +
        'Idempotency-Key.',
    );
  });

  it('says a destructive webhook was put to people, and who answered', () => {
    const d = startWith(damagedLog(), 'event-log', { ...EVENT_LOG_COMMANDS, preserve_database: 'http' });
    d.world.modes.preserve_database = 'http';
    dieInside(d, 'preserve_database');
    run(d);
    const md = renderSummaryMarkdown(summarize(d.events));
    expect(md).toMatch(
      /\(attempt 1, sent as a webhook\): the bot stopped while it ran and could not tell whether it finished; .+ answered "It finished: mark it done"/,
    );
  });
});

describe('an approval nobody gave in time in the incident summary', () => {
  it('is listed as expired with the timeout, then the round that was asked again', () => {
    const s = summarize(interruptedEventLog(damagedLog()).events);
    const rounds = s.approvals.filter((a) => a.stepId === 'approve_preserve');
    expect(rounds).toMatchObject([
      { round: 1, outcome: 'expired', expired: { timeoutMs: 3_600_000 } },
      { round: 2, outcome: 'granted', grantedBy: BO },
    ]);
    const md = renderSummaryMarkdown(s);
    expect(md).toContain(
      '- **2. Approve preserving the broken database** (round 1) before "Preserve the broken database", asked at ' +
        '+00:04:39: expired at +01:04:39, nobody approved within 1 h (the approval timeout); the run paused',
    );
    const blocks = renderSummaryBlocks(s);
    expect(JSON.stringify(blocks.blocks)).toContain(
      'Approval for \\"Preserve the broken database\\" (round 1): expired: nobody approved within 1 h',
    );
    expect(assertWithinLimits(blocks)).toEqual([]);
  });

  it('when the run was aborted at the pause, the follow-up says nobody approved within the timeout', () => {
    const d = startWith(damagedLog(), 'event-log', EVENT_LOG_COMMANDS);
    expireApprovalOf(d, 'approve_stop_writes');
    run(d, { pause: () => ({ abort: 'nobody with approval rights is on call tonight' }) });
    const s = summarize(d.events);
    expect(s.outcome).toBe('aborted');
    expect(s.approvals).toMatchObject([{ stepId: 'approve_stop_writes', outcome: 'expired' }]);
    expect(s.followUps.find((f) => f.id === 'approval_pending')?.text.join('')).toMatch(
      /^The approval "Approve stopping writes" asked at \+\d\d:\d\d:\d\d was never given: nobody approved within 1 h\.$/,
    );
  });
});
