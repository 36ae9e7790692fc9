import type { RunState } from './state.js';

/** What a run can wait for a person to do. */
export type WaitKind = 'decision' | 'approval' | 'manual' | 'pause';

/** The wait a run is in now: its kind, the step it belongs to (a pause may belong to none) and since when. */
export interface OpenWait {
  readonly kind: WaitKind;
  readonly stepId: string | undefined;
  readonly since: string;
}

/**
 * Who a wait calls and who may answer it. `call` are the user and user-group ids the message mentions;
 * `mayAnswer` `null` means anyone (in the allowed channels); `excluded` may not answer however listed.
 */
export interface WhoMayAnswer {
  readonly call: readonly string[];
  readonly mayAnswer: readonly string[] | null;
  readonly excluded: readonly string[];
}

/** The open wait, or `null` while the run works on its own or has ended. An approval already given waits for no one. */
export function openWait(state: RunState): OpenWait | null {
  if (state.outcome !== null) return null;
  if (state.pendingApproval !== null && state.pendingApproval.grantedBy === null) {
    return { kind: 'approval', stepId: state.pendingApproval.stepId, since: state.pendingApproval.requestedAt };
  }
  if (state.pendingDecision !== null) {
    return { kind: 'decision', stepId: state.pendingDecision.stepId, since: state.pendingDecision.requestedAt };
  }
  if (state.pendingManual !== null) {
    return { kind: 'manual', stepId: state.pendingManual.stepId, since: state.pendingManual.requestedAt };
  }
  if (state.pause !== null) return { kind: 'pause', stepId: state.pause.stepId, since: state.pause.at };
  return null;
}

/** The starter is called by their Slack id; a run started from the terminal has no one to mention. */
function starterCall(state: RunState): string[] {
  return state.startedBy.via === 'slack' ? [state.startedBy.id] : [];
}

/**
 * The one rule for who a waiting message calls. An approval calls its listed approvers minus the excluded (the
 * starter, under the two-person rule); with no list (anyone may approve) it calls the starter, who must find a
 * second person. Decisions, manual steps and pauses call the starter, or the operators when the run was started
 * from the terminal and has no Slack user to call.
 *
 * @param operators the access config's operator list; `null` (the default): anyone may act.
 */
export function whoMayAnswer(
  state: RunState,
  kind: WaitKind,
  approval: { readonly approvers: readonly string[] | null; readonly excluded: readonly string[] } | undefined,
  operators: readonly string[] | null = null,
): WhoMayAnswer {
  if (kind === 'approval' && approval !== undefined) {
    const listed =
      approval.approvers === null ? [] : approval.approvers.filter((id) => !approval.excluded.includes(id));
    return {
      call: listed.length > 0 ? listed : starterCall(state),
      mayAnswer: approval.approvers === null || approval.approvers.length === 0 ? null : approval.approvers,
      excluded: approval.excluded,
    };
  }
  const starter = starterCall(state);
  return {
    call: starter.length > 0 ? starter : (operators ?? []),
    mayAnswer: operators,
    excluded: [],
  };
}

/** Who the run's open wait calls, or `null` when nothing waits for a person. */
export function whoIsAwaited(
  state: RunState,
  operators: readonly string[] | null = null,
): (WhoMayAnswer & { readonly wait: OpenWait }) | null {
  const wait = openWait(state);
  if (wait === null) return null;
  return { wait, ...whoMayAnswer(state, wait.kind, state.pendingApproval ?? undefined, operators) };
}
