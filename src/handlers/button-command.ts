import type { CommandOutcome, RunService } from '../jobs/run-service-port.js';
import { runChannelRefusal } from './authorise.js';
import {
  acceptClick,
  type ButtonArgs,
  type Click,
  refuseAccess,
  refuseClick,
  reportOutcome,
  STALE_BUTTON,
} from './button-context.js';
import type { HandlerDeps } from './handler-deps.js';

/** The run a click is about, as the run service reads it. */
export type ClickedRun = NonNullable<Awaited<ReturnType<RunService['get']>>>;

/** A click the run has moved past, with the refusal code it is recorded under and what the person is told. */
export class OutdatedClick {
  readonly code: string;
  readonly text: string;

  constructor(code: string, text: string) {
    this.code = code;
    this.text = text;
  }
}

/** What one run-command button does; everything else about a click is the same for all of them. */
export interface ButtonCommand<T> {
  /** The name the click's refusals are recorded under. */
  readonly action: string;
  /** Who may click: recovery operators or approvers. */
  readonly allowed: 'operator' | 'approver';
  /** What anyone else is told. */
  readonly notAllowed: string;
  /**
   * Opens a dialog instead of sending the command, which is then sent on the dialog's submission. It runs before
   * the run is read and ahead of waiting work, while the click's trigger is still fresh.
   * @defaultValue the command is sent at once
   */
  readonly dialog?: (click: Click) => Promise<void>;
  /**
   * What in the run the click answers. `undefined` refuses it as an out-of-date button; an `OutdatedClick` refuses
   * it with its own words.
   */
  readonly find: (run: ClickedRun, click: Click) => T | OutdatedClick | undefined;
  /** Sends the command to the run service. */
  readonly send: (click: Click, found: T) => Promise<CommandOutcome>;
}

/**
 * A click on a run-command button: acknowledged, checked against who may click and against the run's own channel,
 * matched with what in the run it answers, sent, and any refusal told to the person only.
 */
export async function handleButtonCommand<T>(
  args: ButtonArgs,
  deps: HandlerDeps,
  command: ButtonCommand<T>,
): Promise<void> {
  await acceptClick(args, deps, (click) => runCommand(args, deps, command, click), {
    urgent: command.dialog !== undefined,
  });
}

async function runCommand<T>(
  args: ButtonArgs,
  deps: HandlerDeps,
  command: ButtonCommand<T>,
  click: Click,
): Promise<void> {
  const allowed = command.allowed === 'approver' ? click.access.isApprover : click.access.isOperator;
  if (!allowed) {
    const code = command.allowed === 'approver' ? 'not_approver' : 'not_operator';
    return refuseAccess(args, deps, click, command.action, code, command.notAllowed);
  }
  if (command.dialog) return command.dialog(click);
  const run = await deps.service.get(click.value.runId);
  const wrongPlace = run ? runChannelRefusal(deps, click.place.channelId, run.state) : undefined;
  if (wrongPlace) return refuseClick(args, deps, click, command.action, wrongPlace.code, wrongPlace.text);
  const found = run ? command.find(run, click) : undefined;
  if (found === undefined) return refuseClick(args, deps, click, command.action, 'stale_button', STALE_BUTTON);
  if (found instanceof OutdatedClick) return refuseClick(args, deps, click, command.action, found.code, found.text);
  const outcome = await command.send(click, found);
  await reportOutcome(args, deps, click, command.action, outcome);
}
