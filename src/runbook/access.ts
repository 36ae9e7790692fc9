import { isSafeText } from '../outside-text.js';
import type { Actor } from './events.js';
import { MAX_REASON_LENGTH } from './events.js';

/**
 * Who may do what, as the recovery config's `access` section states it (that shape fits). `null` lists let
 * anyone in. The engine never reads config: callers pass this in.
 */
export interface AccessPolicy {
  /** User or user-group ids allowed to start, decide, retry, skip and abort. `null`: anyone. */
  readonly operators: readonly string[] | null;
  /** User or user-group ids allowed to approve destructive steps. `null`: anyone. */
  readonly approvers: readonly string[] | null;
  /** The approver of a destructive step must not be the person who started the run. */
  readonly twoPersonRule: boolean;
}

/** Anyone may act; a destructive step still needs a second person. */
export const OPEN_ACCESS: AccessPolicy = Object.freeze({ operators: null, approvers: null, twoPersonRule: true });

/** A person sending a command; `groups` are the user-group ids the front end resolved for them. */
export interface CommandActor extends Actor {
  readonly groups?: readonly string[];
}

export function isListed(list: readonly string[] | null, actor: CommandActor): boolean {
  if (list === null) return true;
  return list.includes(actor.id) || (actor.groups ?? []).some((g) => list.includes(g));
}

/** The actor as it is recorded in events: id, name, front end. Groups are not kept. */
export function recordedActor(actor: CommandActor): Actor {
  return { id: actor.id, ...(actor.name !== undefined ? { name: actor.name } : {}), via: actor.via };
}

export type TextProblem = 'required' | 'too_long' | 'invalid';

/** Trims and checks a text a person typed: a reason, a note, a value. */
export function checkPersonText(
  text: string | undefined,
  required: boolean,
  max = MAX_REASON_LENGTH,
): { ok: true; value: string | undefined } | { ok: false; problem: TextProblem } {
  const value = text?.trim() ?? '';
  if (value === '') return required ? { ok: false, problem: 'required' } : { ok: true, value: undefined };
  if (value.length > max) return { ok: false, problem: 'too_long' };
  // Tabs and line breaks are fine in a reason; what the outside-text rule would remove is not.
  if (!isSafeText(value, 'many')) return { ok: false, problem: 'invalid' };
  return { ok: true, value };
}
