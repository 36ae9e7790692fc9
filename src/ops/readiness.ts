/** One thing the process needs to do its work, checked on each `/readyz`. */
export interface ReadinessCheck {
  /** Named in the answer, e.g. `redis`, `journal`, `slack`. */
  readonly name: string;
  /** Resolves when the part answers; rejects (or outlasts the timeout) when it does not. */
  readonly check: () => Promise<void>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  /** Each part with `ok` or why it failed. */
  readonly parts: Readonly<Record<string, string>>;
}

/** How long one part may take before it counts as not answering. */
export const READINESS_TIMEOUT_MS = 2000;

/** Runs every check at once, each under the timeout. */
export async function checkReadiness(
  checks: readonly ReadinessCheck[],
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => [name, await outcomeOf(check, timeoutMs)] as const),
  );
  return { ready: results.every(([, r]) => r === 'ok'), parts: Object.fromEntries(results) };
}

async function outcomeOf(check: () => Promise<void>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((done) => {
    timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      check().then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Slack's `auth.test`, remembered for a while: probes come every few seconds and must not spend Slack's rate
 * limit. A failure is not remembered, so recovery shows at the next probe.
 */
export function cachedCheck(check: () => Promise<void>, ttlMs: number, now: () => number = Date.now) {
  let okUntil = 0;
  return async (): Promise<void> => {
    if (now() < okUntil) return;
    await check();
    okUntil = now() + ttlMs;
  };
}
