import { ErrorCode } from '../errors.js';
import type { Evidence } from './events.js';
import { ENGINE_SOURCE, evidence } from './judges/evidence.js';
import type { Verdict } from './judges/index.js';

// A wait's check with no usable reading is one more unsatisfied check and the deadline holds; only 5xx or malformed
// answers a few times in a row end the wait early (docs/operations.md, "Waits and broken answers").

/** A wait ends after this many checks in a row answered with a 5xx or a malformed answer. */
export const MAX_BAD_ANSWERS_IN_A_ROW = 5;

/**
 * DecisionGraph answered, but with an error of its own (500, 503) or an answer the contract does not allow (a
 * status or body it does not list, a missing field). Waiting may help once; it rarely helps for long.
 */
const BAD_ANSWER_CODES: ReadonlySet<string> = new Set([
  ErrorCode.ApiInternal,
  ErrorCode.ApiStorage,
  ErrorCode.ApiUnexpectedStatus,
  ErrorCode.ContractViolation,
]);

type Failed = Extract<Verdict, { result: 'failed' }>;

/** What a failed check means for the wait it belongs to. */
export type FailedWaitCheck =
  /** One more unsatisfied check; `badAnswers` in a row so far (0 when this one was not a bad answer). */
  | { readonly kind: 'unsatisfied'; readonly badAnswers: number }
  /** Too many bad answers in a row: the step fails with this error and evidence, for a person to look at. */
  | {
      readonly kind: 'give_up';
      readonly error: { readonly code: string; readonly message: string };
      readonly evidence: Evidence[];
    }
  /** A failure waiting cannot fix (401, 403, 404, a refused query): the step fails as any step would. */
  | { readonly kind: 'fail' };

/**
 * Reads a failed check of a wait: no answer yet (refused, timed out, reset), a 429 or a 409 "behind" are what
 * waits are for and count until the deadline; 5xx and malformed answers count too, up to
 * {@link MAX_BAD_ANSWERS_IN_A_ROW} in a row; anything else fails the step at once.
 */
export function readFailedWaitCheck(verdict: Failed, badAnswersBefore: number): FailedWaitCheck {
  if (!BAD_ANSWER_CODES.has(verdict.error.code))
    return verdict.transient ? { kind: 'unsatisfied', badAnswers: 0 } : { kind: 'fail' };
  const badAnswers = badAnswersBefore + 1;
  if (badAnswers < MAX_BAD_ANSWERS_IN_A_ROW) return { kind: 'unsatisfied', badAnswers };
  const message = `DecisionGraph answered the last ${badAnswers} checks in a row with an error or a malformed answer; the last: ${verdict.error.message}`;
  return {
    kind: 'give_up',
    error: { code: verdict.error.code, message: message.slice(0, 2000) },
    evidence: [
      ...verdict.evidence,
      evidence('bad answers in a row', badAnswers, ENGINE_SOURCE, {
        expected: `fewer than ${MAX_BAD_ANSWERS_IN_A_ROW}`,
        ok: false,
        detail: 'a server that keeps answering 5xx or malformed answers needs a person, not a longer wait',
      }),
    ],
  };
}
