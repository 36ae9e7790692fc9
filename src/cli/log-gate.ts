import type { Writable } from 'node:stream';

/**
 * How long a log line waits before it is written: the connections of the job layer see Redis go at the same
 * moment as the watch on it, and their first complaints are dropped with the rest if an outage begins meanwhile.
 */
const HOLD_BACK_MS = 200;

/**
 * The terminal's log stream, which can be held shut. During a Redis outage every connection of the job layer
 * logs each failed reconnect; the person at the terminal gets one line about the outage instead.
 */
export interface LogGate {
  /** Where the logger writes. */
  readonly stream: { write(line: string): boolean };
  /** Lines from now on, and those not yet written, are dropped. */
  hold(): void;
  /** Writes again. */
  release(): void;
}

export function createLogGate(out: Writable, holdBackMs = HOLD_BACK_MS): LogGate {
  let held = false;
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const lines = pending;
    pending = [];
    for (const line of lines) out.write(line);
  };
  return {
    stream: {
      write(line: string) {
        if (held) return true;
        pending.push(line);
        timer ??= setTimeout(flush, holdBackMs);
        return true;
      },
    },
    hold() {
      held = true;
      clearTimeout(timer);
      timer = undefined;
      pending = [];
    },
    release() {
      held = false;
    },
  };
}
