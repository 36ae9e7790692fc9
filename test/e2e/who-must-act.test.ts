import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FaultName } from '../../sim/index.js';
import { ACTION } from '../../src/projections/thread/index.js';
import type { RecordedCall } from '../helpers/fake-slack.js';
import { ANA, BO, E2E, textOf } from './harness.js';
import { walkThread } from './walk-thread.js';

// Every message that waits for a person calls who may answer it, through signed Slack requests and the real bot:
// decisions the starter (Ana), approvals the approvers minus the starter (Bo), with the exact action and what it
// acts on. A wait left alone is reminded, /dg status says who each run waits for, and a reason dialog says what is
// being decided.

const RUN_TIMEOUT_MS = 90_000;
const DECISION_CALL = '*Waiting for* <@U0ANA> to choose one of the options: any recovery operator may.';
const APPROVAL_CALL =
  '*Waiting for* <@U0BO> to approve: only <@U0BO> may, not <@U0ANA>, who started the run (two-person rule).';

let e2e: E2E | undefined;
/** Scenarios whose walk opened a reason dialog: at least one must, or the dialog check above proves nothing. */
const dialogsShown: string[] = [];
const walked: string[] = [];

afterAll(() => {
  // Only meaningful when every scenario ran (not under a `-t` filter).
  if (walked.length === SCENARIOS.length) expect(dialogsShown.length).toBeGreaterThan(0);
});

afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

/** Every version of every message the bot posted or updated, as sent. */
function sent(world: E2E): RecordedCall[] {
  return [...world.fake.calls('chat.postMessage'), ...world.fake.calls('chat.update')];
}

function offers(blocks: unknown, action: string): boolean {
  return JSON.stringify(blocks ?? []).includes(`"action_id":"${action}`);
}

async function statusAnswer(world: E2E): Promise<string> {
  const status = await world.command(BO, 'status');
  const body = await world.until(() => world.fake.responses(status.responseId)[0]?.body, 'the status answer');
  return JSON.stringify({ text: body.text, blocks: body.blocks });
}

// postgres-down takes the simulator's database away, so it is injected once the bot has its reader role; with
// projections behind too, the run stops to ask about a replay.
const SCENARIOS: ReadonlyArray<{ scenario: string; faults: FaultName[]; inject?: FaultName; target?: string }> = [
  { scenario: 'restart', faults: ['node-down', 'projections-behind'] },
  { scenario: 'postgres', faults: ['projections-behind'], inject: 'postgres-down' },
  { scenario: 'projections', faults: ['projections-behind'] },
  { scenario: 'event-log', faults: ['hash-drift'], target: '*On:* backup `' },
  { scenario: 'upgrade', faults: ['failed-upgrade'], target: '*On:* release `v1`' },
];

describe('who must act is called, in every scenario', () => {
  for (const { scenario, faults, inject, target } of SCENARIOS) {
    it(
      `${scenario}: mentions on every waiting message, approvals that say what will run, status and reminders`,
      async () => {
        const world = await E2E.start({ sim: { faults }, bot: { reminderMs: 300 } });
        e2e = world;
        if (inject) await world.sim.inject(inject);
        const started = await world.command(ANA, `recover ${scenario}`);
        const runId = await world.startedRunId(started.responseId);

        // The first wait: the header says who it waits for, status says where and for whom, a reminder comes.
        const first = await world.until(
          () => world.thread(runId).find((m) => offers(m.blocks, ACTION.decide) || offers(m.blocks, ACTION.approve)),
          'the first message that waits for a person',
          RUN_TIMEOUT_MS,
        );
        const isApproval = offers(first.blocks, ACTION.approve);
        const called = isApproval ? '<@U0BO>' : '<@U0ANA>';
        expect(first.text).toContain(`· ${called}`);
        await world.until(
          () =>
            textOf(world.thread(runId)[0]).includes(
              `*Waiting for*\\n${called} (${isApproval ? 'an approval' : 'a decision'})`,
            ) || undefined,
          'the header naming who is waited for',
        );
        const reminder = await world.until(
          () => world.thread(runId).find((m) => m.text?.startsWith('Still waiting for')),
          'a reminder of the first wait',
        );
        expect(textOf(reminder)).toContain(called);
        const status = await statusAnswer(world);
        expect(status).toContain(runId);
        expect(status).toContain(`for ${called} (${isApproval ? 'an approval' : 'a decision'})`);
        if (scenario === 'event-log') expect(status).not.toContain('DecisionGraph is healthy');

        const walk = await walkThread(world, runId, {}, RUN_TIMEOUT_MS);
        walked.push(scenario);
        expect(walk.pausedAt).toBeUndefined();
        const state = await world.runFinished(runId, RUN_TIMEOUT_MS);
        expect(state.outcome?.outcome).toMatch(/^recovered/);

        // Every version of a message that offered a decision or an approval called the right person.
        const decisions = sent(world).filter((c) => offers(c.params.blocks, ACTION.decide));
        const approvals = sent(world).filter((c) => offers(c.params.blocks, ACTION.approve));
        expect(decisions.length + approvals.length).toBeGreaterThan(0);
        for (const call of decisions) {
          expect(JSON.stringify(call.params.blocks)).toContain(DECISION_CALL);
          expect(String(call.params.text)).toContain('· <@U0ANA>');
        }
        for (const call of approvals) {
          const body = JSON.stringify(call.params.blocks);
          expect(body).toContain(APPROVAL_CALL);
          expect(body).toMatch(/\*Will run:\* (sends a webhook|calls DecisionGraph)/);
          expect(String(call.params.text)).toContain('· <@U0BO>');
        }
        if (target) expect(approvals.map((c) => JSON.stringify(c.params.blocks)).join('')).toContain(target);
        if (approvals.length > 0) {
          // The webhook's exact request is quoted; its bearer token is not.
          expect(approvals.map((c) => JSON.stringify(c.params.blocks)).join('')).toContain(
            `POST ${world.sim.controlUrl}`,
          );
        }
        expect(JSON.stringify(sent(world))).not.toContain(world.sim.controlToken);

        // A reason dialog, once its run is read, says what is being decided and what each option does.
        const dialogs = world.fake.calls('views.update').map((c) => JSON.stringify(c.params.view));
        if (world.fake.calls('views.open').length > 0) {
          expect(dialogs.some((d) => d.includes('*Deciding:*') && d.includes('(your choice)'))).toBe(true);
          dialogsShown.push(scenario);
        }
      },
      RUN_TIMEOUT_MS * 3,
    );
  }
});

describe('rejecting an approval', () => {
  it(
    'pauses the run with Retry and Abort, recorded; an approver and the starter may both reject',
    async () => {
      const world = await E2E.start({ sim: { faults: ['failed-upgrade'] } });
      e2e = world;
      const started = await world.command(ANA, 'recover upgrade');
      const runId = await world.startedRunId(started.responseId);
      const first = await world.until(
        () => world.thread(runId).find((m) => offers(m.blocks, ACTION.approve)),
        'the first approval',
        RUN_TIMEOUT_MS,
      );
      expect(offers(first.blocks, ACTION.reject)).toBe(true);

      // Bo, an approver, rejects: the guarded step does not run, the run pauses and the thread says who.
      await world.click(BO, first, ACTION.reject);
      const paused = await world.until(
        () => world.thread(runId).find((m) => offers(m.blocks, ACTION.retry)),
        'the pause after the rejection',
      );
      expect(textOf(paused)).toContain('rejected by bo');
      expect(textOf(paused)).toContain('Retry asks for the approval again');
      expect(textOf(paused)).toContain('*Waiting for* <@U0ANA> to retry, skip or abort');
      await world.until(
        () => world.thread(runId).find((m) => textOf(m).includes('Round 1: rejected by <@U0BO>')),
        'the rejected round in the approval message',
      );

      // Retry asks again; the starter, who may not approve, may still reject.
      await world.click(ANA, paused, ACTION.retry);
      const second = await world.until(
        () =>
          world
            .thread(runId)
            .find((m) => offers(m.blocks, ACTION.reject) && textOf(m).includes('Approval needed (round 2)')),
        'the second round of the approval',
      );
      await world.click(ANA, second, ACTION.reject);
      const rejectedCount = async () =>
        (await world.bot.runtime.service.get(runId))?.events.filter((e) => e.type === 'approval_rejected').length;
      await expect.poll(rejectedCount, { timeout: 15_000 }).toBe(2);
      const run = await world.bot.runtime.service.get(runId);
      if (!run) throw new Error(`run ${runId} vanished`);
      const rejections = run.events.filter((e) => e.type === 'approval_rejected');
      expect(rejections.map((e) => (e.type === 'approval_rejected' ? [e.round, e.by.id] : []))).toEqual([
        [1, 'U0BO'],
        [2, 'U0ANA'],
      ]);
      expect(run.state.status).toBe('paused');
      expect(run.state.steps.approve_stop?.status).toBe('pending');
      expect(run.events.some((e) => e.type === 'step_started' && e.stepId === 'stop_runtime')).toBe(false);
    },
    RUN_TIMEOUT_MS * 2,
  );
});
