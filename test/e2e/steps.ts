import { expect } from 'vitest';
import { REASON_INPUT } from '../../src/projections/thread/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { newTriggerId } from '../helpers/slack-requests.js';
import { ANA, BO, buttons, type E2E, type Person } from './harness.js';

type Button = ReturnType<typeof buttons>[number];

/**
 * Waits for the button of `stepId` that a person would pick (an option or action id such as `approve`, or a
 * test on the button) in the run's thread, and clicks it as `who`.
 */
export async function clickChoice(
  e2e: E2E,
  runId: string,
  who: Person,
  stepId: string,
  choice: string | ((b: Button) => boolean),
): Promise<{ message: StoredMessage; button: Button }> {
  const prefix = `${runId}|${stepId}|`;
  const wanted = (b: Button) =>
    b.value?.startsWith(prefix) === true &&
    (typeof choice === 'string' ? b.value.startsWith(`${prefix}${choice}|`) : choice(b));
  const found = await e2e.until(
    () => {
      for (const message of e2e.thread(runId)) {
        const button = buttons(message).find(wanted);
        if (button) return { message, button };
      }
      return undefined;
    },
    `a ${typeof choice === 'string' ? choice : 'matching'} button of ${stepId}`,
    30_000,
  );
  const trigger = newTriggerId();
  const res = await e2e.click(who, found.message, found.button.actionId, found.button.value, trigger);
  expect(res.status).toBe(200);
  if (found.button.actionId.startsWith('dg.decide_reason.')) {
    // The option asks for a reason: the dialog Slack opens is filled in and submitted.
    await e2e.until(() => e2e.fake.views().find((v) => v.trigger_id === trigger), 'the reason dialog');
    const submitted = await e2e.submit(who, trigger, { [REASON_INPUT.block]: 'drill: the recommended choice' });
    expect(submitted.status).toBe(200);
  }
  return found;
}

/** The option marked recommended (★) on a decision's buttons. */
export const recommendedOption = (b: { text: string }): boolean => b.text.startsWith('★');

/** The simulator's `GET /state`, as its control API answers it. */
export async function simState(e2e: E2E): Promise<Record<string, unknown>> {
  const res = await fetch(`${e2e.sim.controlUrl}/state`, {
    headers: { authorization: `Bearer ${e2e.sim.controlToken}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** One backup as the simulator lists it. */
export interface SimBackup {
  id: string;
  label: string;
  created_at: string;
  last_log_seq: number;
}

/** The simulator's backups by label (each test's faults make one per label). */
export async function simBackups(e2e: E2E): Promise<{ nightly?: SimBackup; scheduled?: SimBackup }> {
  const listed = (await simState(e2e)).backups as SimBackup[];
  return { nightly: listed.find((b) => b.label === 'nightly'), scheduled: listed.find((b) => b.label === 'scheduled') };
}

/** Ana starts an event-log run and Bo approves stopping writes and preserving: the run asks which backup. */
export async function eventLogToBackupChoice(e2e: E2E): Promise<string> {
  const started = await e2e.command(ANA, 'recover event-log');
  const runId = await e2e.startedRunId(started.responseId);
  await clickChoice(e2e, runId, BO, 'approve_stop_writes', 'approve');
  await clickChoice(e2e, runId, BO, 'approve_preserve', 'approve');
  return runId;
}
