import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../sim/http/rate-limit.js';
import { ManualClock } from '../../../sim/index.js';
import { rfc3339 } from '../../../sim/util/time.js';

describe("the simulator's clock", () => {
  it('reads a manual clock as DecisionGraph stamps time, moving only when advanced', () => {
    const clock = new ManualClock('2026-03-07T12:00:00Z');
    expect(rfc3339(clock.now())).toBe('2026-03-07T12:00:00Z');
    clock.advance(1_500);
    expect(rfc3339(clock.now())).toBe('2026-03-07T12:00:01.5Z');
    expect(rfc3339(clock.now() + 0.25)).toBe('2026-03-07T12:00:01.50025Z');
  });

  it('ends a sleep once the clock has moved past it, not before', async () => {
    const clock = new ManualClock();
    let woke = false;
    const sleeping = clock.sleep(1_000).then(() => {
      woke = true;
    });
    clock.advance(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(clock.sleeping).toBe(0);
  });

  it('counts rate-limit windows in minutes of its clock, whatever the wall clock says', () => {
    const clock = new ManualClock('2026-03-07T12:00:59Z');
    const limiter = new RateLimiter({ read: 2, write: 2, admin: 2 }, () => clock.now());
    limiter.hit('admin', 'dev-admin', 'default');
    limiter.hit('admin', 'dev-admin', 'default');
    expect(() => limiter.hit('admin', 'dev-admin', 'default')).toThrow(/Rate limit exceeded for admin/);
    clock.advance(999);
    expect(() => limiter.hit('admin', 'dev-admin', 'default')).toThrow(/Rate limit exceeded/);
    clock.advance(1);
    expect(() => limiter.hit('admin', 'dev-admin', 'default')).not.toThrow();
  });
});
