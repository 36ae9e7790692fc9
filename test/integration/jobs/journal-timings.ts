/**
 * The journal writer as the job tests run it, in the test process and in the crash tests' worker processes: quick
 * retries, no periodic sweep, and a dead writer's copy taken over within about a second.
 */
export const FAST_JOURNAL_WRITER = {
  backoffBaseMs: 50,
  backoffMaxMs: 500,
  sweepIntervalMs: 0,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
} as const;
