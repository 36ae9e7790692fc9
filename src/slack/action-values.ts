/**
 * What a button or a dialog carries back: ids only, never state (docs/internals.md#action-values). Button value:
 * `runId|stepId|choice|v<seq>`; a choice may contain `|`, so it is everything between the second `|` and the last.
 */

/**
 * Action ids, one per kind of button. Decision buttons add `.<n>` because action ids must differ within a message;
 * their kind says whether the click opens a dialog (for a reason, or a typed value and a reason), so the dialog
 * can open before anything is read.
 */
export const ACTION = Object.freeze({
  decide: 'dg.decide',
  decideWithReason: 'dg.decide_reason',
  decideWithValue: 'dg.decide_value',
  approve: 'dg.approve',
  reject: 'dg.reject',
  manualDone: 'dg.manual_done',
  retry: 'dg.retry',
  skip: 'dg.skip',
  abort: 'dg.abort',
  startRecovery: 'dg.start_recovery',
});

/** Decision buttons: `dg.decide.0`, `dg.decide_reason.1`, `dg.decide_value.2`, … */
export const DECIDE_ACTION_PATTERN = /^dg\.decide(?:_reason|_value)?\.\d+$/;

export type DecideKind = 'direct' | 'reason' | 'value';

/** Decision buttons of one kind, each kind taken by a listener of its own. */
export const DECIDE_ACTION_PATTERNS: { readonly [K in DecideKind]: RegExp } = Object.freeze({
  direct: /^dg\.decide\.\d+$/,
  reason: /^dg\.decide_reason\.\d+$/,
  value: /^dg\.decide_value\.\d+$/,
});

export function decideActionId(index: number, kind: DecideKind = 'direct'): string {
  const base = kind === 'reason' ? ACTION.decideWithReason : kind === 'value' ? ACTION.decideWithValue : ACTION.decide;
  return `${base}.${index}`;
}

/** What a decision button's action id says about the click; `undefined` for other action ids. */
export function decideKindOf(actionId: string): DecideKind | undefined {
  if (!DECIDE_ACTION_PATTERN.test(actionId)) return undefined;
  if (actionId.startsWith(`${ACTION.decideWithReason}.`)) return 'reason';
  if (actionId.startsWith(`${ACTION.decideWithValue}.`)) return 'value';
  return 'direct';
}

/** The `callback_id` of the dialog that asks for a reason (and, for some options, a value). */
export const REASON_MODAL = 'dg.reason';

/** Block and action ids of the dialog's inputs, which Slack keys submitted values by. */
export const REASON_INPUT = Object.freeze({ block: 'reason', action: 'reason' });
export const VALUE_INPUT = Object.freeze({ block: 'value', action: 'value' });

/** Step id used in values of run-wide buttons (the header's Abort), where no step is concerned. */
export const NO_STEP = '-';

export interface ActionValue {
  readonly runId: string;
  /** The step, or {@link NO_STEP}. */
  readonly stepId: string;
  /** An option id for decisions; `approve`, `done`, `retry`, `skip`, `abort` otherwise. */
  readonly choice: string;
  /** Sequence number of the run event that asked (decision, approval, manual action, pause). */
  readonly seq: number;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STEP_ID = /^(?:[a-z][a-z0-9_]{0,62}|-)$/;
/** Longest value accepted back; Slack allows 2000 and ours stay far below. */
const MAX_VALUE = 2000;

export function encodeActionValue(value: ActionValue): string {
  return `${value.runId}|${value.stepId}|${value.choice}|v${value.seq}`;
}

/** The ids in a button value or dialog metadata; `undefined` for anything that is not one of ours. */
export function parseActionValue(raw: string | undefined): ActionValue | undefined {
  if (raw === undefined || raw.length === 0 || raw.length > MAX_VALUE) return undefined;
  const first = raw.indexOf('|');
  const second = raw.indexOf('|', first + 1);
  const last = raw.lastIndexOf('|');
  if (first < 0 || second < 0 || last <= second) return undefined;
  const runId = raw.slice(0, first);
  const stepId = raw.slice(first + 1, second);
  const choice = raw.slice(second + 1, last);
  const version = raw.slice(last + 1);
  if (!RUN_ID.test(runId) || !STEP_ID.test(stepId) || choice.length === 0) return undefined;
  if (!/^v[1-9]\d{0,9}$/.test(version)) return undefined;
  return { runId, stepId, choice, seq: Number(version.slice(1)) };
}

/** What a reason dialog is for; it travels in `private_metadata` next to the button's value. */
export type ReasonPurpose = 'decide' | 'skip' | 'abort';

export interface ReasonModalMetadata {
  readonly purpose: ReasonPurpose;
  readonly target: ActionValue;
  /** Where to tell the person about a refusal after the dialog closed. */
  readonly channelId: string | undefined;
  readonly threadTs: string | undefined;
}

const PURPOSES: readonly ReasonPurpose[] = ['decide', 'skip', 'abort'];
const SLACK_ID = /^[A-Z0-9]{2,30}$/;
const SLACK_TS = /^\d{1,12}\.\d{1,8}$/;

/** `purpose;channel;thread_ts;value`: ids and a timestamp only. */
export function encodeReasonMetadata(meta: ReasonModalMetadata): string {
  return [meta.purpose, meta.channelId ?? '', meta.threadTs ?? '', encodeActionValue(meta.target)].join(';');
}

export function parseReasonMetadata(raw: string | undefined): ReasonModalMetadata | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(';');
  if (parts.length < 4) return undefined;
  const [purpose = '', channelId = '', threadTs = ''] = parts;
  const target = parseActionValue(parts.slice(3).join(';'));
  if (!PURPOSES.includes(purpose as ReasonPurpose) || target === undefined) return undefined;
  if (channelId !== '' && !SLACK_ID.test(channelId)) return undefined;
  if (threadTs !== '' && !SLACK_TS.test(threadTs)) return undefined;
  return {
    purpose: purpose as ReasonPurpose,
    target,
    channelId: channelId === '' ? undefined : channelId,
    threadTs: threadTs === '' ? undefined : threadTs,
  };
}
