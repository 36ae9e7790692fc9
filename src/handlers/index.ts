import type { App } from '@slack/bolt';
import { createAfterAckQueue } from './after-ack-queue.js';
import { register as dgCommand } from './dg-command.js';
import type { HandlerDeps } from './handler-deps.js';
import { register as reasonSubmission } from './reason-submission.js';
import { register as runButtons } from './run-buttons.js';
import { register as startRecoveryButton } from './start-recovery-button.js';

export type { HistoryEntry } from '../projections/run-history.js';
export { type AfterAckQueue, type AfterAckQueueOptions, createAfterAckQueue } from './after-ack-queue.js';
export type { HandlerDeps } from './handler-deps.js';

/**
 * Every listener of the bot on one Bolt app; the same for the HTTP receiver and Socket Mode. They share one queue
 * for their work after the acknowledgement (see `createAfterAckQueue`) unless `deps` brings its own.
 */
export function registerListeners(app: App, given: HandlerDeps): void {
  const deps: HandlerDeps = given.afterAck ? given : { ...given, afterAck: createAfterAckQueue() };
  dgCommand(app, deps);
  runButtons(app, deps);
  startRecoveryButton(app, deps);
  reasonSubmission(app, deps);
}
