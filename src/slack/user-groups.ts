import type { webApi } from '@slack/bolt';
import { DgError, ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { classifySlackFailure } from './outbox/slack-failures.js';

/** The members of a user group named in the access lists could not be read; `slackCode` says why. */
export class UserGroupLookupError extends DgError {
  readonly code = ErrorCode.UserGroupLookupFailed;
  constructor(
    readonly groupId: string,
    readonly slackCode: string,
    cause?: unknown,
  ) {
    super(`the members of user group ${groupId} could not be read (${slackCode})`, { cause });
  }
}

/** The part of `WebClient` the directory calls (scope `usergroups:read`). */
export interface UserGroupClient {
  readonly usergroups: {
    readonly users: {
      list(args: webApi.UsergroupsUsersListArguments): Promise<webApi.UsergroupsUsersListResponse>;
    };
  };
}

/** A person's standing in the user groups that were asked about. */
export interface GroupMembership {
  /** The groups they are a member of. */
  readonly groups: readonly string[];
  /** The groups whose members could not be read: counted as groups they are not in. */
  readonly unchecked: readonly string[];
}

export interface UserGroupDirectory {
  /** Which of `groupIds` the user is in, from a cache or from Slack. Never throws: failures land in `unchecked`. */
  membership(userId: string, groupIds: readonly string[]): Promise<GroupMembership>;
  /**
   * The same answer without waiting, when every group's members are cached; `undefined` when Slack must be asked.
   * Lets a listener decide before its acknowledgement. @defaultValue always `undefined`
   */
  cachedMembership?(userId: string, groupIds: readonly string[]): GroupMembership | undefined;
}

export interface UserGroupDirectoryOptions {
  readonly slack: UserGroupClient;
  readonly logger: Logger;
  /** How long a group's member list is trusted. @defaultValue 300000 (5 min) */
  readonly ttlMs?: number;
  /**
   * How long one lookup may take: a slash command's answer waits for it, inside Slack's 3 s. A slower Slack
   * counts as a failed lookup. @defaultValue 1500
   */
  readonly timeoutMs?: number;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** A user-group id as Slack writes it (`S…`), as opposed to a user id (`U…`, `W…`). */
export function isUserGroupId(id: string): boolean {
  return /^S[A-Z0-9]{2,}$/.test(id);
}

/**
 * Members of Slack user groups through `usergroups.users.list`, one call per group, kept in memory for `ttlMs`
 * and shared by concurrent askers. It fails closed: a group whose members cannot be read (Slack down, slow,
 * `missing_scope`, `no_such_subteam`) is reported in `unchecked` and logged, so the person is not counted in it,
 * and nothing of the failure is cached, so the next request asks Slack again.
 */
export function createUserGroupDirectory(options: UserGroupDirectoryOptions): UserGroupDirectory {
  const logger = options.logger.child({ component: 'user-groups' });
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const timeoutMs = options.timeoutMs ?? 1500;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { members: ReadonlySet<string>; expiresAt: number }>();
  const inflight = new Map<string, Promise<ReadonlySet<string>>>();

  const fetchMembers = async (groupId: string): Promise<ReadonlySet<string>> => {
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UserGroupLookupError(groupId, 'timeout')), timeoutMs);
    });
    try {
      const res = await Promise.race([options.slack.usergroups.users.list({ usergroup: groupId }), slow]);
      const members = new Set(res.users ?? []);
      cache.set(groupId, { members, expiresAt: now() + ttlMs });
      return members;
    } catch (err) {
      if (err instanceof UserGroupLookupError) throw err;
      throw new UserGroupLookupError(groupId, classifySlackFailure(err).code, err);
    } finally {
      clearTimeout(timer);
    }
  };

  const members = (groupId: string): Promise<ReadonlySet<string>> => {
    const cached = cache.get(groupId);
    if (cached && cached.expiresAt > now()) return Promise.resolve(cached.members);
    let running = inflight.get(groupId);
    if (!running) {
      running = fetchMembers(groupId).finally(() => inflight.delete(groupId));
      inflight.set(groupId, running);
    }
    return running;
  };

  return {
    cachedMembership(userId, groupIds) {
      const groups: string[] = [];
      for (const groupId of new Set(groupIds)) {
        const cached = cache.get(groupId);
        if (!cached || cached.expiresAt <= now()) return undefined;
        if (cached.members.has(userId)) groups.push(groupId);
      }
      return { groups, unchecked: [] };
    },
    async membership(userId, groupIds) {
      const unique = [...new Set(groupIds)];
      const results = await Promise.allSettled(unique.map((g) => members(g)));
      const groups: string[] = [];
      const unchecked: string[] = [];
      results.forEach((result, i) => {
        const groupId = unique[i] as string;
        if (result.status === 'fulfilled') {
          if (result.value.has(userId)) groups.push(groupId);
          return;
        }
        unchecked.push(groupId);
        const err = result.reason as unknown;
        logger.warn(
          { err, groupId, userId, code: err instanceof UserGroupLookupError ? err.slackCode : undefined },
          'user group members could not be read; counted as not a member',
        );
      });
      return { groups, unchecked };
    },
  };
}
