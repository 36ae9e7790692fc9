import { DgError, ErrorCode } from '../errors.js';

/** An event whose `seq` is not the next one of its run: a gap, a repeat, or events applied out of order. */
export class RunLogOutOfOrderError extends DgError {
  readonly code = ErrorCode.RunLogOutOfOrder;
  constructor(
    readonly runId: string,
    readonly expectedSeq: number,
    readonly actualSeq: number,
  ) {
    super(`run ${runId}: expected event seq ${expectedSeq}, got ${actualSeq}`);
  }
}

/** An event that cannot belong where it is: another run's, a second start, anything after the run finished. */
export class RunLogInvalidError extends DgError {
  readonly code = ErrorCode.RunLogInvalid;
  constructor(
    readonly runId: string | undefined,
    readonly seq: number | undefined,
    readonly problem: string,
  ) {
    super(`run ${runId ?? '(none)'} event ${seq ?? '?'}: ${problem}`);
  }
}

/** Scenario data that fails validation; one problem per line, naming the step and field. */
export class ScenarioInvalidError extends DgError {
  readonly code = ErrorCode.ScenarioInvalid;
  constructor(
    readonly scenario: string,
    readonly problems: readonly string[],
  ) {
    super(`scenario ${scenario} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A scenario name that is neither a scenario nor an alias; the message lists the valid ones. */
export class UnknownScenarioError extends DgError {
  readonly code = ErrorCode.UnknownScenario;
  constructor(
    readonly requested: string,
    readonly known: readonly string[],
  ) {
    super(`unknown scenario "${requested.slice(0, 50)}"; choose one of: ${known.join(', ')}`);
  }
}

/**
 * A person's command (start, decide, approve, retry, skip, abort, done) that the run refuses. The engine returns
 * refusals as values; callers that prefer exceptions wrap them in this error.
 */
export class RunCommandRefusedError extends DgError {
  readonly code = ErrorCode.RunCommandRefused;
  constructor(
    readonly refusal: string,
    message: string,
  ) {
    super(message);
  }
}
