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

/** What every run button says: which clicks it takes, and who may make them. */
interface RunButtonKind {
  /** The action id its listener takes; a pattern for numbered ones (decision buttons). */
  readonly actionId: string | RegExp;
  /** The name the click's refusals are recorded under. */
  readonly action: string;
  /** Who may click: recovery operators, approvers, or either (the engine then checks the rest). */
  readonly allowed: 'operator' | 'approver' | 'either';
  /** What anyone else is told. */
  readonly notAllowed: string;
}

/**
 * A button that opens a dialog instead of sending its command, which is then sent on the dialog's submission. The
 * dialog opens before the run is read and ahead of waiting work, while the click's trigger is still fresh.
 */
export interface DialogButton extends RunButtonKind {
  readonly dialog: (args: ButtonArgs, deps: HandlerDeps, click: Click) => Promise<void>;
  readonly find?: never;
  readonly send?: never;
}

/** A button that sends its command at once, for what in the run the click answers. */
export interface CommandButton<T> extends RunButtonKind {
  readonly dialog?: never;
  /**
   * What in the run the click answers. `undefined` refuses it as an out-of-date button; an `OutdatedClick` refuses
   * it with its own words.
   */
  readonly find: (run: ClickedRun, click: Click) => T | OutdatedClick | undefined;
  /** Sends the command to the run service. */
  readonly send: (service: RunService, click: Click, found: T) => Promise<CommandOutcome>;
}

/** One row of `RUN_BUTTONS`: what one run button does; everything else about a click is the same for all. */
export type RunButton<T> = DialogButton | CommandButton<T>;

/**
 * A click on a run button: acknowledged, checked against who may click; then either its dialog opened, or checked
 * against the run's own channel, matched with what in the run it answers, sent, and any refusal told to the person
 * only.
 */
export async function handleButtonCommand<T>(
  args: ButtonArgs,
  deps: HandlerDeps,
  command: RunButton<T>,
): Promise<void> {
  await acceptClick(args, deps, (click) => runCommand(args, deps, command, click), {
    urgent: command.dialog !== undefined,
  });
}

async function runCommand<T>(args: ButtonArgs, deps: HandlerDeps, command: RunButton<T>, click: Click): Promise<void> {
  const allowed =
    command.allowed === 'approver'
      ? click.access.isApprover
      : command.allowed === 'either'
        ? click.access.isApprover || click.access.isOperator
        : click.access.isOperator;
  if (!allowed) {
    const code = command.allowed === 'approver' ? 'not_approver' : 'not_operator';
    return refuseAccess(args, deps, click, command.action, code, command.notAllowed);
  }
  if (command.dialog) return command.dialog(args, deps, click);
  const run = await deps.service.get(click.value.runId);
  const wrongPlace = run ? runChannelRefusal(deps, click.place.channelId, run.state) : undefined;
  if (wrongPlace) return refuseClick(args, deps, click, command.action, wrongPlace.code, wrongPlace.text);
  const found = run ? command.find(run, click) : undefined;
  if (found === undefined) return refuseClick(args, deps, click, command.action, 'stale_button', STALE_BUTTON);
  if (found instanceof OutdatedClick) return refuseClick(args, deps, click, command.action, found.code, found.text);
  const outcome = await command.send(deps.service, click, found);
  await reportOutcome(args, deps, click, command.action, outcome);
}
