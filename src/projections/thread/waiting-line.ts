import { openWait, type WaitKind, type WhoMayAnswer, whoMayAnswer } from '../../runbook/waiting.js';
import { principal } from './format.js';
import type { ThreadModel } from './model.js';

type Approvers = { readonly approvers: readonly string[] | null; readonly excluded: readonly string[] };

/** What the called people are asked to do, by kind of wait. */
const ASKED: Readonly<Record<WaitKind, string>> = {
  decision: 'choose one of the options',
  approval: 'approve',
  manual: 'do this by hand and click Done',
  pause: 'retry, skip or abort',
};

function names(ids: readonly string[]): string {
  return ids.map(principal).join(', ');
}

/** `anyone in this channel may` / `only @a, @ops may`, then who may not, and why. */
function mayClause(model: ThreadModel, who: WhoMayAnswer, kind: WaitKind): string {
  const allowed =
    who.mayAnswer === null
      ? 'anyone in this channel may'
      : kind === 'approval'
        ? `only ${names(who.mayAnswer.filter((id) => !who.excluded.includes(id)))} may`
        : 'any recovery operator may';
  const starter = model.state.startedBy.id;
  const excluded = who.excluded.map((id) =>
    id === starter ? `${principal(id)}, who started the run (two-person rule)` : principal(id),
  );
  return excluded.length > 0 ? `${allowed}, not ${excluded.join(', ')}` : allowed;
}

/** An approval that calls the starter only because nobody is listed: they must find a second person. */
function needsSecondPerson(model: ThreadModel, who: WhoMayAnswer, kind: WaitKind): boolean {
  const starter = model.state.startedBy.id;
  return kind === 'approval' && who.excluded.includes(starter) && who.call.includes(starter);
}

function calledText(model: ThreadModel, who: WhoMayAnswer, kind: WaitKind): string {
  if (needsSecondPerson(model, who, kind)) return 'a second person';
  return who.call.length > 0 ? names(who.call) : 'a recovery operator';
}

/**
 * The sentence every waiting message carries: who it calls (mentions, so Slack notifies them), what they are asked
 * to do, and who else may answer. An approval nobody listed calls the starter, who must find a second person.
 */
export function waitingLine(model: ThreadModel, kind: WaitKind, approval?: Approvers): string {
  const who = whoMayAnswer(model.state, kind, approval, model.operators);
  const line = `:bust_in_silhouette: *Waiting for* ${calledText(model, who, kind)} to ${ASKED[kind]}: ${mayClause(model, who, kind)}.`;
  return needsSecondPerson(model, who, kind)
    ? `${line} ${principal(model.state.startedBy.id)}, please ask someone.`
    : line;
}

/** Who may approve once the request is no longer open, in the same words as while it waited. */
export function approversLine(model: ThreadModel, approval: Approvers): string {
  const who = whoMayAnswer(model.state, 'approval', approval, model.operators);
  return `*Who may approve:* ${mayClause(model, who, 'approval')}.`;
}

/** The mentions alone, for a message's notification text; empty when there is nobody to mention. */
export function callMentions(model: ThreadModel, kind: WaitKind, approval?: Approvers): string {
  return names(whoMayAnswer(model.state, kind, approval, model.operators).call);
}

/** A message's notification text with the people it calls, so Slack notifies them. */
export function withMentions(text: string, mentions: string): string {
  return mentions === '' ? text : `${text} · ${mentions}`;
}

/** A wait in a few words: `a decision`, `an approval`… */
export const WAIT_NOUN: Readonly<Record<WaitKind, string>> = {
  decision: 'a decision',
  approval: 'an approval',
  manual: 'a manual action',
  pause: 'a retry, skip or abort',
};

/** The header's `Waiting for` field: who is called, and for what; `undefined` while nothing waits for a person. */
export function awaitedText(model: ThreadModel): string | undefined {
  const wait = openWait(model.state);
  if (wait === null) return undefined;
  const who = whoMayAnswer(model.state, wait.kind, model.state.pendingApproval ?? undefined, model.operators);
  return `${calledText(model, who, wait.kind)} (${WAIT_NOUN[wait.kind]})`;
}
