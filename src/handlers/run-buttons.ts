import type { App } from '@slack/bolt';
import type { RunEvent } from '../runbook/index.js';
import { ACTION, DECIDE_ACTION_PATTERNS, decideKindOf } from '../slack/action-values.js';
import { type ClickedRun, handleButtonCommand, OutdatedClick, type RunButton } from './button-command.js';
import { askingEvent, type ButtonArgs, stalePause } from './button-context.js';
import { openDecisionDialog, openReasonDialog } from './button-dialogs.js';
import type { HandlerDeps } from './handler-deps.js';

/**
 * The buttons of a run's thread, by their name in `ACTION`. "Start recovery" sits under a diagnosis and starts a
 * run instead of steering one: `start-recovery-button.ts`.
 */
export type RunButtonName = Exclude<keyof typeof ACTION, 'startRecovery'>;

type Asked<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** What in the run a click on each button answers; `never` for a button whose dialog answers on submission. */
interface Answers {
  readonly decide: Asked<'decision_requested'>;
  readonly decideWithReason: never;
  readonly decideWithValue: never;
  readonly approve: Asked<'approval_requested'>;
  readonly reject: Asked<'approval_requested'>;
  readonly manualDone: Asked<'manual_action_requested'>;
  /** The run itself, once the pause the button was posted for is found still open. */
  readonly retry: ClickedRun;
  readonly skip: never;
  readonly abort: never;
}

const NOT_OPERATOR_DECIDE = ':no_entry: Only recovery operators can decide. Ask one of them in this thread.';

/**
 * Every run button, one row each; a button added to `ACTION` and missing here fails to compile. Each row is
 * acknowledged, checked against who may click and where, and then opens its dialog or sends its command (see
 * `handleButtonCommand`).
 */
export const RUN_BUTTONS: { readonly [K in RunButtonName]: RunButton<Answers[K]> } = Object.freeze({
  // Two people clicking together: the run log's compare-and-append lets one decision in, and the other person is
  // told who was first.
  decide: {
    actionId: DECIDE_ACTION_PATTERNS.direct,
    action: 'decide',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_DECIDE,
    find: (run, click) => askingEvent(run.events, click.value.seq, ['decision_requested'], click.value.stepId),
    send: (service, click, request) =>
      service.decide(click.value.runId, {
        stepId: click.value.stepId,
        optionId: click.value.choice,
        actor: click.actor,
        ...(request.item ? { itemId: request.item.id } : {}),
      }),
  },
  decideWithReason: {
    actionId: DECIDE_ACTION_PATTERNS.reason,
    action: 'decide',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_DECIDE,
    dialog: (args, deps, click) => openDecisionDialog(args, deps, click, 'reason'),
  },
  decideWithValue: {
    actionId: DECIDE_ACTION_PATTERNS.value,
    action: 'decide',
    allowed: 'operator',
    notAllowed: NOT_OPERATOR_DECIDE,
    dialog: (args, deps, click) => openDecisionDialog(args, deps, click, 'value'),
  },
  // Bound to the request the button was posted with: its fingerprint goes to the engine, which refuses it if the
  // measurement was taken again since. The two-person rule is the engine's: it knows who started the run.
  approve: {
    actionId: ACTION.approve,
    action: 'approve',
    allowed: 'approver',
    notAllowed: ':no_entry: Only the approvers named in the message can approve a destructive step.',
    find: (run, click) => askingEvent(run.events, click.value.seq, ['approval_requested'], click.value.stepId),
    send: (service, click, request) =>
      service.approve(click.value.runId, {
        stepId: click.value.stepId,
        actor: click.actor,
        fingerprint: request.fingerprint,
      }),
  },
  // Rejecting never makes things worse: an approver or the starter (an operator) may; the engine checks which.
  reject: {
    actionId: ACTION.reject,
    action: 'reject',
    allowed: 'either',
    notAllowed: ':no_entry: Only the approvers and the person who started the run can reject an approval.',
    find: (run, click) => askingEvent(run.events, click.value.seq, ['approval_requested'], click.value.stepId),
    send: (service, click) => service.reject(click.value.runId, { stepId: click.value.stepId, actor: click.actor }),
  },
  // "Done" on a manual action: the person says they did it; the run goes on and checks the result.
  manualDone: {
    actionId: ACTION.manualDone,
    action: 'manual_done',
    allowed: 'operator',
    notAllowed: ':no_entry: Only recovery operators can report a manual action as done.',
    find: (run, click) => askingEvent(run.events, click.value.seq, ['manual_action_requested'], click.value.stepId),
    send: (service, click) => service.manualDone(click.value.runId, { stepId: click.value.stepId, actor: click.actor }),
  },
  // The button belongs to one pause: once it ended, a late or second click is refused with who was first, so one
  // double click never retries a step twice. Retrying a destructive step needs a second person: the engine checks.
  retry: {
    actionId: ACTION.retry,
    action: 'retry',
    allowed: 'operator',
    notAllowed: ':no_entry: Only recovery operators can retry a step.',
    find: (run, click) => {
      const stale = stalePause(run.events, run.state, click.value.seq);
      return stale ? new OutdatedClick('stale_pause', stale) : run;
    },
    send: (service, click) => service.retry(click.value.runId, { actor: click.actor }),
  },
  // Skipping the failed step, or aborting the run (from the header or a paused step), needs a reason.
  skip: {
    actionId: ACTION.skip,
    action: 'skip',
    allowed: 'operator',
    notAllowed: ':no_entry: Only recovery operators can skip a step.',
    dialog: (args, deps, click) => openReasonDialog(args, deps, click, 'skip'),
  },
  abort: {
    actionId: ACTION.abort,
    action: 'abort',
    allowed: 'operator',
    notAllowed: ':no_entry: Only recovery operators can abort a run.',
    dialog: (args, deps, click) => openReasonDialog(args, deps, click, 'abort'),
  },
});

/** A click on one run button, as its listener takes it. */
export function handleRunButton<K extends RunButtonName>(name: K, args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  return handleButtonCommand(args, deps, RUN_BUTTONS[name]);
}

/** One button's handler, for callers that hold a click of a known button (the unit tests). */
const handlerOf = (name: RunButtonName) => (args: ButtonArgs, deps: HandlerDeps) => handleRunButton(name, args, deps);
export const handleApproveButton = handlerOf('approve');
export const handleRejectButton = handlerOf('reject');
export const handleManualDoneButton = handlerOf('manualDone');
export const handleRetryButton = handlerOf('retry');
export const handleAbortButton = handlerOf('abort');

/** A decision button of any kind, taken by the row of its kind. */
export function handleDecisionButton(args: ButtonArgs, deps: HandlerDeps): Promise<void> {
  const kind = decideKindOf(args.body.actions[0]?.action_id ?? '') ?? 'direct';
  const name = kind === 'reason' ? 'decideWithReason' : kind === 'value' ? 'decideWithValue' : 'decide';
  return handleRunButton(name, args, deps);
}

/** One listener per row. */
export function register(app: App, deps: HandlerDeps): void {
  for (const name of Object.keys(RUN_BUTTONS) as RunButtonName[]) {
    app.action(RUN_BUTTONS[name].actionId, async ({ body, ack, client }) => {
      await handleRunButton(name, { body: body as unknown as ButtonArgs['body'], ack, client }, deps);
    });
  }
}
