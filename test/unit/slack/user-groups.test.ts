import { describe, expect, it, vi } from 'vitest';
import { createUserGroupDirectory, isUserGroupId, type UserGroupClient } from '../../../src/slack/user-groups.js';
import { capturingLogger } from '../handlers/fakes.js';

type ListArgs = Parameters<UserGroupClient['usergroups']['users']['list']>[0];

function directory(groups: Record<string, string[]>, options: { ttlMs?: number; timeoutMs?: number } = {}) {
  let clock = 1_000_000;
  const { logger, lines } = capturingLogger();
  const list = vi.fn(async ({ usergroup }: ListArgs) => {
    const users = groups[usergroup];
    if (!users)
      throw Object.assign(new Error('no_such_subteam'), {
        code: 'slack_webapi_platform_error',
        data: { error: 'no_such_subteam' },
      });
    return { ok: true, users };
  });
  const dir = createUserGroupDirectory({
    slack: { usergroups: { users: { list } } },
    logger,
    now: () => clock,
    ...options,
  });
  return { dir, list, lines, advance: (ms: number) => (clock += ms) };
}

describe('user-group directory', () => {
  it('tells which of the asked groups a person is in', async () => {
    const { dir } = directory({ S0ONCALL: ['U0CAROL', 'U0DAN'], S0DBA: ['U0DAN'] });
    expect(await dir.membership('U0CAROL', ['S0ONCALL', 'S0DBA'])).toEqual({ groups: ['S0ONCALL'], unchecked: [] });
    expect(await dir.membership('U0DAN', ['S0ONCALL', 'S0DBA'])).toEqual({
      groups: ['S0ONCALL', 'S0DBA'],
      unchecked: [],
    });
  });

  it('asks Slack once per group within the cache lifetime, and again after it', async () => {
    const { dir, list, advance } = directory({ S0ONCALL: ['U0CAROL'] }, { ttlMs: 300_000 });
    await Promise.all([dir.membership('U0CAROL', ['S0ONCALL']), dir.membership('U0EVE', ['S0ONCALL'])]);
    await dir.membership('U0CAROL', ['S0ONCALL']);
    expect(list).toHaveBeenCalledTimes(1);
    advance(299_000);
    await dir.membership('U0CAROL', ['S0ONCALL']);
    expect(list).toHaveBeenCalledTimes(1);
    advance(2_000);
    await dir.membership('U0CAROL', ['S0ONCALL']);
    expect(list).toHaveBeenCalledTimes(2);
  });

  it('answers without waiting only while every asked group is cached', async () => {
    const { dir, list, advance } = directory({ S0ONCALL: ['U0CAROL'], S0DBA: ['U0DAN'] }, { ttlMs: 60_000 });
    expect(dir.cachedMembership?.('U0CAROL', ['S0ONCALL'])).toBeUndefined();
    await dir.membership('U0CAROL', ['S0ONCALL']);
    expect(dir.cachedMembership?.('U0CAROL', ['S0ONCALL'])).toEqual({ groups: ['S0ONCALL'], unchecked: [] });
    expect(dir.cachedMembership?.('U0EVE', ['S0ONCALL'])).toEqual({ groups: [], unchecked: [] });
    // One group not cached: Slack must be asked, so no answer yet.
    expect(dir.cachedMembership?.('U0CAROL', ['S0ONCALL', 'S0DBA'])).toBeUndefined();
    advance(61_000);
    expect(dir.cachedMembership?.('U0CAROL', ['S0ONCALL'])).toBeUndefined();
    expect(list).toHaveBeenCalledTimes(1);
  });

  it('fails closed: a group Slack cannot answer for is one the person is not in, logged, and asked again next time', async () => {
    const { dir, list, lines } = directory({ S0ONCALL: ['U0CAROL'] });
    const first = await dir.membership('U0CAROL', ['S0ONCALL', 'S0GONE']);
    expect(first).toEqual({ groups: ['S0ONCALL'], unchecked: ['S0GONE'] });
    const warning = lines().find((l) => l.msg === 'user group members could not be read; counted as not a member');
    expect(warning).toMatchObject({ groupId: 'S0GONE', code: 'no_such_subteam' });
    await dir.membership('U0CAROL', ['S0GONE']);
    expect(list.mock.calls.filter(([a]) => a.usergroup === 'S0GONE')).toHaveLength(2);
  });

  it('counts a lookup slower than its timeout as failed, so a slash command still answers in time', async () => {
    const { logger } = capturingLogger();
    const list = vi.fn(() => new Promise<never>(() => undefined));
    const dir = createUserGroupDirectory({ slack: { usergroups: { users: { list } } }, logger, timeoutMs: 30 });
    const started = Date.now();
    expect(await dir.membership('U0CAROL', ['S0ONCALL'])).toEqual({ groups: [], unchecked: ['S0ONCALL'] });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('knows group ids from user ids', () => {
    expect(isUserGroupId('S0ONCALL')).toBe(true);
    expect(isUserGroupId('U0ANA')).toBe(false);
    expect(isUserGroupId('W0ANA')).toBe(false);
  });
});
