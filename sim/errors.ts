/**
 * The simulator's own error codes. It stands in for DecisionGraph, apart from the bot, so it shares none of the
 * bot's errors; match by `code`, never by message.
 */
export const SimErrorCode = {
  /** The service-accounts document is malformed: DecisionGraph's boot refuses it. */
  ServiceAccountsInvalid: 'DGSIM_ERR_SERVICE_ACCOUNTS_INVALID',
} as const;

export type SimErrorCode = (typeof SimErrorCode)[keyof typeof SimErrorCode];

export abstract class SimError extends Error {
  abstract readonly code: SimErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem per line, naming the key, never a token. */
export class ServiceAccountsInvalidError extends SimError {
  readonly code = SimErrorCode.ServiceAccountsInvalid;
  constructor(readonly problems: readonly string[]) {
    super(`invalid service accounts:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
