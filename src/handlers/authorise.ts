import { type Access, channelAllowed } from '../config/recovery-config.js';
import type { RunActor } from '../jobs/run-service-port.js';
import { codeSpan } from '../slack/slack-text.js';
import { isUserGroupId } from '../slack/user-groups.js';
import type { CommandAccessFlags } from './command-help.js';
import { type HandlerDeps, slackActor } from './handler-deps.js';
import { refusalText } from './refusals.js';

// Who may do what, checked before anything slow happens. The engine checks again when the command is applied
// (it knows who started the run, which the two-person rule needs); these checks give the early, specific answer.
// Access lists may name user groups (`S…`): their members are read from Slack, and the groups a person is in
// travel with them to the engine as `actor.groups`.

function listed(list: readonly string[] | null, userId: string, groups: readonly string[]): boolean {
  return list === null || list.includes(userId) || groups.some((g) => list.includes(g));
}

/** What a person may do, and who they are for the run service. */
export interface Authorisation extends CommandAccessFlags {
  /** The person as the run service gets them: with the access lists' user groups they are a member of. */
  readonly actor: RunActor;
  /** Access-list groups whose members Slack could not tell just now: the person is not counted in them. */
  readonly unchecked: readonly string[];
}

/** Groups worth asking Slack about: those of a list that does not already name the person (or let anyone in). */
export function groupsToCheck(access: Access, userId: string): string[] {
  const groups = new Set<string>();
  for (const list of [access.operators, access.approvers]) {
    if (list === null || list.includes(userId)) continue;
    for (const id of list) if (isUserGroupId(id)) groups.add(id);
  }
  return [...groups];
}

function authorisation(
  deps: HandlerDeps,
  user: { id: string; username?: string; name?: string },
  groups: readonly string[],
  unchecked: readonly string[],
): Authorisation {
  const actor = slackActor(user);
  return {
    actor: groups.length > 0 ? { ...actor, groups } : actor,
    isOperator: listed(deps.access.operators, user.id, groups),
    isApprover: listed(deps.access.approvers, user.id, groups),
    unchecked,
  };
}

/**
 * A person's standing when it is known without asking Slack: the access lists name them (or no user group that
 * could matter), or the groups' members are cached. `undefined` when Slack must be asked: see {@link authorise}.
 * Listeners call this before their acknowledgement, which must not wait for anything.
 */
export function authoriseNow(
  deps: HandlerDeps,
  user: { id: string; username?: string; name?: string },
): Authorisation | undefined {
  const wanted = groupsToCheck(deps.access, user.id);
  if (wanted.length === 0) return authorisation(deps, user, [], []);
  if (!deps.userGroups) {
    deps.logger.warn({ groups: wanted }, 'the access lists name user groups but no directory is set up');
    return authorisation(deps, user, [], wanted);
  }
  const cached = deps.userGroups.cachedMembership?.(user.id, wanted);
  return cached ? authorisation(deps, user, cached.groups, cached.unchecked) : undefined;
}

/**
 * Reads a person's standing: listed by id, or a member of a listed user group. Slack is asked only about groups
 * that could make a difference, through the cached directory; a group it cannot answer for counts as one the
 * person is not in (see `unchecked`).
 */
export async function authorise(
  deps: HandlerDeps,
  user: { id: string; username?: string; name?: string },
): Promise<Authorisation> {
  const now = authoriseNow(deps, user);
  if (now) return now;
  const wanted = groupsToCheck(deps.access, user.id);
  const { groups, unchecked } = (await deps.userGroups?.membership(user.id, wanted)) ?? {
    groups: [],
    unchecked: wanted,
  };
  return authorisation(deps, user, groups, unchecked);
}

/**
 * The answer for a person who is not on the list: `text` as it is, or, when a user group could not be checked,
 * that reason and the advice to try again (code `group_lookup_failed`), so nobody is told "not an operator" for
 * what was Slack's hiccup.
 */
export function accessRefusal(auth: Authorisation, code: string, text: string): { code: string; text: string } {
  if (auth.unchecked.length === 0) return { code, text };
  const groups = auth.unchecked.map((g) => codeSpan(g, 40)).join(', ');
  const plain = text.replace(/^:[a-z_]+: /, '');
  return {
    code: 'group_lookup_failed',
    text:
      `:warning: ${plain} Your membership of user group ${groups} could not be checked with Slack just now, ` +
      'so it was not counted. Try again in a moment.',
  };
}

export function isChannelAllowed(access: Access, channelId: string): boolean {
  return channelAllowed(access, channelId);
}

/** A request refused for where it was made, with its code and what the person is told. */
export interface PlaceRefusal {
  readonly code: 'channel_not_allowed' | 'wrong_channel';
  readonly text: string;
}

/** The channel a run's thread is in: where it was started, or the default channel for runs started elsewhere. */
export function runChannelOf(deps: HandlerDeps, state: { readonly channelId: string | undefined }): string | undefined {
  return state.channelId ?? deps.defaultChannel;
}

/** A click or dialog from a channel the `channels` allow-list leaves out (or from no channel at all). */
export function channelRefusal(access: Access, channelId: string | undefined): PlaceRefusal | undefined {
  if (channelId !== undefined && isChannelAllowed(access, channelId)) return undefined;
  return { code: 'channel_not_allowed', text: refusalText('channel_not_allowed', '') };
}

/** A click or dialog about a run, made somewhere other than the run's own thread: a copied or forwarded button. */
export function runChannelRefusal(
  deps: HandlerDeps,
  channelId: string | undefined,
  run: { readonly runId: string; readonly channelId: string | undefined },
): PlaceRefusal | undefined {
  const own = runChannelOf(deps, run);
  if (own === undefined || own === channelId) return undefined;
  return {
    code: 'wrong_channel',
    text: `:no_entry: Run ${codeSpan(run.runId, 80)} is operated from its own thread, in <#${own}>; act on it there.`,
  };
}

/** `<#C1>, <#C2>`: the channels commands are taken in. */
export function allowedChannelsText(access: Access): string {
  return access.channels.map((c) => `<#${c}>`).join(', ');
}
