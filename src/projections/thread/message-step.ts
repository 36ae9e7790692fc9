// The step a thread message is about, read back from its key (`step-<id>`, `step-<id>.<n>`, `alert-<id>-<seq>`,
// `remind-<id>-r<n>`, `remind-<wait>-<id>-<seq>`): step ids are `[a-z0-9_]`, so the separators are unambiguous.
const STEP_KEYS = [
  /^step-([a-z0-9_]{1,63})(?:\.\d+)?$/,
  /^alert-([a-z0-9_]{1,63})-\d+$/,
  /^remind-([a-z0-9_]{1,63})-r\d+$/,
  /^remind-(?:decision|approval|manual|pause)-([a-z0-9_]{1,63})-\d+$/,
];

/** The step id in a thread message key, or undefined for run-wide messages (header, result, summary). */
export function stepIdOfKey(key: string): string | undefined {
  for (const pattern of STEP_KEYS) {
    const id = pattern.exec(key)?.[1];
    if (id !== undefined && id !== 'run') return id;
  }
  return undefined;
}
