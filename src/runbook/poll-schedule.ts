import type { Poll } from './scenario-schema.js';

/** The wait before re-check `poll` (1 for the first): `initialMs` growing by `factor`, never above `maxMs`. */
export function pollDelayMs(p: Poll, poll: number): number {
  return Math.min(p.maxMs, p.initialMs * p.factor ** (poll - 1));
}

/** When each re-check happens, ms after the first reading, as long as they start before `untilMs`. */
export function pollTimes(p: Poll, untilMs: number): number[] {
  const times: number[] = [];
  for (let poll = 1, at = pollDelayMs(p, 1); at < untilMs; poll++, at += pollDelayMs(p, poll)) times.push(at);
  return times;
}

/** The most readings (the first included) that fall in any window of `windowMs`. */
export function busiestWindow(p: Poll, untilMs: number, windowMs: number): number {
  const times = [0, ...pollTimes(p, untilMs)];
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
