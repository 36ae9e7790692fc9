import type { TimeScale } from '../../src/jobs/index.js';

/**
 * Scenario timings as the integration and end-to-end tests run them. Delays (polls, retry backoffs) shrink 50
 * times, a 2 s poll becoming 40 ms, so a run takes seconds. Deadlines (poll deadlines, re-check waits) shrink only
 * 4 times, a 2 min deadline becoming 30 s: a step taken over from a killed worker, or polled on a machine busy with
 * other work, is late by seconds, and at 50 times a 2.4 s deadline ran out under it. A passing run never waits for
 * a deadline, so the long ones cost nothing; a test about a deadline sets a short one of its own.
 */
export const TEST_TIME_SCALE: TimeScale = { delays: 0.02, deadlines: 0.25 };
