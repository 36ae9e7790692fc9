/**
 * Key layout of the outbox, under `<prefix>outbox:` so that BullMQ queues sharing the prefix
 * (`<prefix>slack-outbox:…`) cannot collide with it. Per run:
 * - `content`: hash key → the desired message as JSON (opaque to Lua, which would mangle empty arrays);
 * - `meta`: hash of plain numbers per key (`v:` desired version, `h:` content hash, `p:` place in the thread,
 *   `s:` first-publish sequence to break ties, `o:` last accepted order), plus `seq`;
 * - `state`: hash key → what Slack shows (ts, channel, delivered version and hash, last error) as JSON;
 * - `settled`: hash key → the highest version delivered or refused for good;
 * - `inflight`: hash key → the version being posted, set before `chat.postMessage` and cleared with the ts;
 * - `lock`: the token of the delivery that owns the run.
 */
export function outboxKeys(prefix: string) {
  const base = `${prefix}outbox:`;
  return {
    /** Set of runs with messages not yet settled, swept into delivery jobs periodically. */
    pending: `${base}pending`,
    run(runId: string) {
      const run = `${base}run:${runId}:`;
      return {
        content: `${run}content`,
        meta: `${run}meta`,
        state: `${run}state`,
        settled: `${run}settled`,
        inflight: `${run}inflight`,
        lock: `${run}lock`,
      };
    },
  };
}

export type RunKeys = ReturnType<ReturnType<typeof outboxKeys>['run']>;
