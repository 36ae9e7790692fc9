import { canonicalJson } from '../db/canonical-json.js';
import type { HostActionResult } from './host-actions.js';

/** How many keys are remembered; the oldest is forgotten first. A drill makes a few dozen host calls. */
const DEFAULT_CAPACITY = 10_000;

/** Keys the simulator accepts, as a webhook receiver would: visible ASCII, bounded. */
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentAnswer {
  readonly result: HostActionResult;
  /** The answer was remembered from an earlier request with the same key; nothing ran. */
  readonly replayed: boolean;
}

interface Entry {
  readonly fingerprint: string;
  readonly answer: Promise<HostActionResult>;
}

function fingerprintOf(action: string, body: Record<string, unknown>): string {
  let text: string;
  try {
    text = canonicalJson(body);
  } catch {
    // Floats are fine in a webhook body; only the DecisionGraph payload rules forbid them.
    text = JSON.stringify(body);
  }
  return `${action} ${text}`;
}

/**
 * `Idempotency-Key` for the host actions, as a careful webhook receiver implements it: the first request with a
 * key runs; a repeat with the same key and the same request gets the first answer (status and body) without
 * running or being counted again, and one still in flight is waited for. The same key on a different request is
 * refused with 422. An answer that could not be produced (the action threw) is not remembered, so a repeat runs.
 * Keys live as long as the host (they survive node restarts).
 */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  static isValidKey(key: string): boolean {
    return KEY.test(key);
  }

  async run(
    key: string,
    action: string,
    body: Record<string, unknown>,
    execute: () => Promise<HostActionResult>,
  ): Promise<IdempotentAnswer> {
    const fingerprint = fingerprintOf(action, body);
    const known = this.entries.get(key);
    if (known !== undefined) {
      if (known.fingerprint !== fingerprint) {
        return {
          result: {
            status: 422,
            body: { ok: false, action, error: 'Idempotency-Key was already used for a different request' },
          },
          replayed: false,
        };
      }
      return { result: await known.answer, replayed: true };
    }
    const answer = execute();
    this.entries.set(key, { fingerprint, answer });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    try {
      return { result: await answer, replayed: false };
    } catch (err) {
      if (this.entries.get(key)?.answer === answer) this.entries.delete(key);
      throw err;
    }
  }
}
