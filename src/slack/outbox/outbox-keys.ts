/**
 * Key layout of the outbox, under `<prefix>outbox:` so that BullMQ queues sharing the prefix
 * (`<prefix>slack-outbox:…`) cannot collide with it.
 */
export function outboxKeys(prefix: string) {
  const base = `${prefix}outbox:`;
  return {
    /** Set of runs with messages not yet settled, swept into delivery jobs periodically. */
    pending: `${base}pending`,
    run(runId: string) {
      const run = `${base}run:${runId}:`;
      return {
        /** Hash key → the desired message as JSON (opaque to Lua, which would mangle empty arrays). */
        content: `${run}content`,
        /**
         * Hash of plain numbers per key (`v:` desired version, `h:` content hash, `p:` place in the thread,
         * `s:` first-publish sequence to break ties, `o:` last accepted order), plus `seq`.
         */
        meta: `${run}meta`,
        /** Hash key → what Slack shows (ts, channel, delivered version and hash, last error) as JSON. */
        state: `${run}state`,
        /** Hash key → the highest version delivered or refused for good. */
        settled: `${run}settled`,
        /** Hash key → the version being posted, set before `chat.postMessage` and cleared with the ts. */
        inflight: `${run}inflight`,
        /** The token of the delivery that owns the run. */
        lock: `${run}lock`,
      };
    },
  };
}

export type RunKeys = ReturnType<ReturnType<typeof outboxKeys>['run']>;
