import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION, REASON_INPUT } from '../../src/projections/thread/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, E2E, type E2EOptions, type Person, textOf } from './harness.js';

// Host actions the host carried out whose answer never reached the bot: the webhook connection cut after the
// action ran, or the answer lost on the way back. The bot must not treat them as "never sent" and send them again
// on its own; the simulator's counters and request log show what the host saw.

/** A whole run through Slack, with approvals and decisions, takes 5 to 15 s on a busy two-core machine. */
const RUN_TIMEOUT_MS = 60_000;

type Button = ReturnType<typeof buttons>[number];

/** The question about an attempt that got no answer, once the bot has posted it. */
function noAnswerQuestion(e2e: E2E, runId: string, stepId: string): StoredMessage | undefined {
  return e2e.thread(runId).find((m) => buttons(m).some((b) => b.value?.includes(`|${stepId}|run_again|`)));
}

function summaryPosted(e2e: E2E, runId: string): StoredMessage | undefined {
  return e2e.thread(runId).find((m) => m.text?.startsWith('Incident summary'));
}

/** Clicks `button` as `who`, typing `reason` in the dialog when the option asks for one. */
async function choose(e2e: E2E, who: Person, message: StoredMessage, button: Button, reason = 'checked on the host') {
  const trigger = newTriggerId();
  await e2e.click(who, message, button.actionId, button.value, trigger);
  if (!button.actionId.startsWith(ACTION.decideWithReason)) return;
  await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === trigger), 'the reason dialog');
  await e2e.submit(who, trigger, { [REASON_INPUT.block]: reason });
}

/**
 * Acts for the people in the channel until `stop` holds: Bo approves each request, picks the recommended option
 * of each decision (typing a reason when one is asked) and retries a failed checklist; Ana reports manual actions
 * done. Nothing else is retried, so a step repeated shows in the counters.
 */
async function actUntil<T>(e2e: E2E, runId: string, stop: () => T | undefined, what: string): Promise<T> {
  const handled = new Set<string>();
  const keyOf = (m: StoredMessage, b: Button) => `${m.ts}|${b.actionId}|${b.value ?? ''}`;
  for (;;) {
    const next = await e2e.until(
      () => {
        const done = stop();
        if (done !== undefined) return { done };
        for (const m of e2e.thread(runId)) {
          const open = buttons(m).filter((b) => !handled.has(keyOf(m, b)));
          const act =
            open.find((b) => b.actionId === ACTION.approve || b.actionId === ACTION.manualDone) ??
            open.find((b) => b.text.startsWith('★')) ??
            // A checklist that failed while the run's own replay was still finishing is checked again.
            open.find((b) => b.actionId === ACTION.retry && b.value?.includes('|gate|'));
          if (act) return { message: m, button: act, all: open };
        }
        return undefined;
      },
      what,
      45_000,
    );
    if ('done' in next) return next.done as T;
    for (const b of next.all) handled.add(keyOf(next.message, b));
    if (next.button.actionId === ACTION.manualDone) await e2e.click(ANA, next.message, next.button.actionId);
    else await choose(e2e, BO, next.message, next.button);
  }
}

/** Requests the host received for `action`: its key, whether it was answered from memory, how its answer fared. */
function requestsFor(e2e: E2E, action: string) {
  return e2e.sim
    .hostActionRequests()
    .filter((r) => r.action === action)
    .map((r) => [r.idempotencyKey, r.replayed, r.delivery]);
}

/** One bot and simulator for the tests of a describe: started before them, closed after them. */
function useE2E(options: E2EOptions, prepare?: (e2e: E2E) => Promise<void>): () => E2E {
  let e2e: E2E | undefined;
  beforeAll(async () => {
    e2e = await E2E.start(options);
    await prepare?.(e2e);
  });
  afterAll(async () => {
    await e2e?.close();
  });
  return () => e2e as E2E;
}

/** Starts `scenario` as Ana and acts for people until the bot asks about the attempt of `stepId` without an answer. */
async function runUntilAsked(e2e: E2E, scenario: string, stepId: string) {
  const started = await e2e.command(ANA, `recover ${scenario}`);
  const runId = await e2e.startedRunId(started.responseId);
  const question = await actUntil(e2e, runId, () => noAnswerQuestion(e2e, runId, stepId), 'the question');
  return { runId, question };
}

/** Acts for people until the incident summary is posted; the run's final state. */
async function runToEnd(e2e: E2E, runId: string) {
  await actUntil(e2e, runId, () => summaryPosted(e2e, runId), 'the incident summary');
  return e2e.runFinished(runId);
}

/** Starts `scenario` as Ana and acts for people until the run ends, which must be recovered. */
async function recoveredRun(e2e: E2E, scenario: string) {
  const started = await e2e.command(ANA, `recover ${scenario}`);
  const runId = await e2e.startedRunId(started.responseId);
  const state = await runToEnd(e2e, runId);
  expect(state.outcome?.outcome).toBe('recovered');
  return { runId, state };
}

/** A bot and a simulator with `fault` on, whose restore webhook is cut off after the restore ran. */
function restoreCutOff(fault: 'hash-drift' | 'failed-upgrade') {
  const world = useE2E({ sim: { faults: [fault] } }, (e) => e.sim.inject('host-cut-off', { action: 'restore_backup' }));
  /** Runs `scenario` until people are asked about the restore, which the host ran once. */
  return async (scenario: string) => {
    const e2e = world();
    const asked = await runUntilAsked(e2e, scenario, 'restore_backup');
    expect(e2e.sim.hostActionCounts().restore_backup).toBe(1);
    return { e2e, ...asked };
  };
}

describe('an event-log restore whose webhook is cut off after it ran', () => {
  const untilAsked = restoreCutOff('hash-drift');

  it(
    'is not restored again: people are asked, and "it finished" goes on to a recovered run',
    async () => {
      const { e2e, runId, question } = await untilAsked('event-log');
      expect(textOf(question)).toContain('no answer came back');
      expect(textOf(question)).not.toContain('could not be reached');

      const done = buttons(question).find((b) => b.value?.includes('|done|')) as Button;
      await choose(e2e, ANA, question, done, 'restore log shows it finished');
      const state = await runToEnd(e2e, runId);
      expect(state.outcome?.outcome).toBe('recovered');
      const counts = e2e.sim.hostActionCounts();
      expect([counts.stop_writes, counts.preserve_database, counts.restore_backup, counts.restart]).toEqual([
        1, 1, 1, 1,
      ]);
      expect(requestsFor(e2e, 'restore_backup')).toEqual([[`${runId}-restore_backup-a1`, false, 'cut-off']]);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('an upgrade restore cut off after it ran, sent again by a second person', () => {
  const untilAsked = restoreCutOff('failed-upgrade');

  it(
    'is sent once more, under the same Idempotency-Key, only when an approver other than the starter says so',
    async () => {
      const { e2e, runId, question } = await untilAsked('upgrade');
      // The host is reachable again; the starter alone may not send a destructive action again.
      await e2e.sim.clear('host-cut-off');
      const again = buttons(question).find((b) => b.value?.includes('|run_again|')) as Button;
      await choose(e2e, ANA, question, again);
      await e2e.until(
        () => e2e.privateTexts(ANA.id).find((t) => t.includes('two-person rule') || t.includes('approver')),
        'the starter to be refused',
      );
      expect(requestsFor(e2e, 'restore_backup')).toHaveLength(1);

      await choose(e2e, BO, question, again);
      const state = await runToEnd(e2e, runId);
      expect(state.outcome?.outcome).toBe('recovered');
      const key = `${runId}-restore_backup-a1`;
      expect(requestsFor(e2e, 'restore_backup')).toEqual([
        [key, false, 'cut-off'],
        [key, true, 'answered'],
      ]);
      const counts = e2e.sim.hostActionCounts();
      expect([counts.stop, counts.restore_backup, counts.switch_release]).toEqual([1, 1, 1]);
    },
    RUN_TIMEOUT_MS,
  );
});

describe('a restart whose answer is lost on the way back', () => {
  const world = useE2E({ sim: { faults: ['node-down'] }, hostActionTimeoutSeconds: 1 }, (e) =>
    e.sim.inject('host-answer-lost', { action: 'restart' }),
  );

  it(
    'is re-probed, found done by an answering node, and not restarted again',
    async () => {
      const e2e = world();
      const { runId, state } = await recoveredRun(e2e, 'restart');
      expect(e2e.sim.hostActionCounts().restart).toBe(1);
      expect(requestsFor(e2e, 'restart')).toEqual([[`${runId}-restart_runtime-a1`, false, 'answer-lost']]);
      expect(state.steps.restart_runtime).toMatchObject({ status: 'passed', attempt: 1, alreadyDone: true });
      const restartMessage = e2e.thread(runId).find((m) => textOf(m).includes('Restart the DecisionGraph runtime'));
      expect(textOf(restartMessage)).not.toContain('could not be reached');
    },
    RUN_TIMEOUT_MS,
  );
});

describe('a catch_up request admitted whose answer is lost', () => {
  // Batches slow enough that the admitted run is still open when the bot looks for it.
  const world = useE2E({
    sim: { faults: ['node-down', 'projections-behind', 'replay-answer-lost'], replayBatchDelayMs: 400 },
  });

  /** Replay runs DecisionGraph recorded for the bot's run, by the run id the bot puts in their metadata. */
  async function replayRunsOf(runId: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: world().sim.databaseUrl });
    await client.connect();
    try {
      const rows = await client.query<{ job_id: string }>(
        `SELECT job_id FROM dg_projection_runs WHERE metadata_json::jsonb ->> 'dg_recovery_run_id' = $1`,
        [runId],
      );
      return rows.rows.map((r) => r.job_id);
    } finally {
      await client.end();
    }
  }

  it(
    'is not sent again: the run it created is found by its request key and followed',
    async () => {
      const e2e = world();
      const { runId, state } = await recoveredRun(e2e, 'restart');
      const created = await replayRunsOf(runId);
      expect(created).toHaveLength(1);
      // One request, followed: not a failed attempt and a second request.
      expect(state.steps.start_catch_up).toMatchObject({ attempt: 1, outputs: { jobId: created[0], attached: true } });
      const message = e2e.thread(runId).find((m) => textOf(m).includes('Request a catch_up replay'));
      expect(textOf(message)).not.toContain('was not admitted');
    },
    RUN_TIMEOUT_MS,
  );
});
