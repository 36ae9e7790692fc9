export { bullPrefix, DEFAULT_PREFIX } from '../../key-prefix.js';

const PREFIX = /^[A-Za-z0-9_.:{}-]{1,64}$/;

export function assertPrefix(prefix: string): void {
  if (!PREFIX.test(prefix)) throw new TypeError('key prefix must be 1 to 64 of A-Z a-z 0-9 _ . : { } -');
}

export type RunSlotScope = 'node' | 'tenant';

/**
 * Key layout. Everything lives under `<prefix>runlog:` so that BullMQ queues sharing the prefix
 * (`<prefix>journal:…`, `<prefix>steps:…`) can never collide with it.
 */
export function runLogKeys(prefix: string) {
  const base = `${prefix}runlog:`;
  return {
    /** List of a run's events as JSON, index i holding seq i+1. */
    events: (runId: string) => `${base}events:${runId}`,
    eventsPrefix: `${base}events:`,
    /** Set of runs that have started and not finished. */
    active: `${base}active`,
    /** Set of runs whose log holds events the journal may not have yet. */
    unjournaled: `${base}unjournaled`,
    /** Hash run → highest sequence number known to be journaled. */
    journaled: `${base}journaled`,
    /** String holding the run id that owns the slot. */
    slot: (scope: RunSlotScope, tenantId?: string) =>
      scope === 'node' ? `${base}slot:node` : `${base}slot:tenant:${tenantId}`,
    /** Set of slot keys a run holds, released together when the run ends. */
    held: (runId: string) => `${base}held:${runId}`,
  };
}

/** Pub/sub channels on which each append announces its events (channels are not keys; no collision). */
export function runEventChannels(prefix: string) {
  const channelPrefix = `${prefix}runevents:`;
  return {
    channelPrefix,
    channel: (runId: string) => `${channelPrefix}${runId}`,
    pattern: `${channelPrefix}*`,
  };
}

export type RunLogKeys = ReturnType<typeof runLogKeys>;
