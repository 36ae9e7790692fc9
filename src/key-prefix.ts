/** Default prefix of every Redis key the bot uses: run log, journal queue, step jobs, outbox. */
export const DEFAULT_PREFIX = 'dgr:';

/** BullMQ joins its prefix and the queue name with `:` itself. */
export function bullPrefix(prefix: string): string {
  return prefix.endsWith(':') ? prefix.slice(0, -1) : prefix;
}
