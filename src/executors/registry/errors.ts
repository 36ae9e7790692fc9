import { DgError, ErrorCode } from '../../errors.js';

/** A step named an executor the registry does not have. Nothing ran. */
export class ExecutorUnknownError extends DgError {
  readonly code = ErrorCode.ExecutorUnknown;
  constructor(readonly executor: string) {
    super(
      executor === 'manual'
        ? 'the manual executor is the engine’s own: no job runs for it'
        : `unknown executor "${executor.slice(0, 80)}"`,
    );
  }
}

/**
 * A step's resolved parameters do not fit its executor: a required value is missing or of the wrong kind. The
 * message names the parameter and the rule, never the value (it may be text a person typed). Nothing ran.
 */
export class ExecutorParamsInvalidError extends DgError {
  readonly code = ErrorCode.ExecutorParamsInvalid;
  constructor(
    readonly executor: string,
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`${executor}: parameter ${parameter} ${reason}`);
  }
}
