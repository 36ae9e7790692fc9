/**
 * BullMQ job ids: one per step attempt and poll, derived from the run, so a re-enqueue of the same continuation is
 * a no-op. They contain no `:` and are never all digits, as BullMQ requires.
 */
export function jobIdFor(runId: string, stepId: string, attempt: number, poll: number): string {
  return `${runId}-${stepId}-a${attempt}-p${poll}`;
}

/** The delayed check that expires one round of an approval nobody gave; one per round, like the step jobs. */
export function approvalExpiryJobIdFor(runId: string, stepId: string, round: number): string {
  return `${runId}-${stepId}-r${round}-expiry`;
}

/** Stable per step attempt, for host actions and replay requests to recognise a repeated call. */
export function idempotencyKeyFor(runId: string, stepId: string, attempt: number): string {
  return `${runId}-${stepId}-a${attempt}`;
}

/** Run ids the engine accepts: safe in job ids, Redis keys, file names and Slack block ids. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function isValidRunId(runId: string): boolean {
  return RUN_ID_PATTERN.test(runId) && !/^\d+$/.test(runId);
}
