import { DgError, ErrorCode } from '../errors.js';

/** Every compare-and-append round lost a race: the run kept changing. Nothing was appended twice. */
export class RunBusyError extends DgError {
  readonly code = ErrorCode.RunBusy;
  constructor(
    readonly runId: string,
    readonly rounds: number,
  ) {
    super(`run ${runId} kept changing through ${rounds} attempts to append; try again`);
  }
}

/**
 * The worker is shutting down and cut the step off. Its outcome is not recorded: what the world did is unknown,
 * so the next delivery of the job re-probes the step first.
 */
export class StepInterruptedError extends DgError {
  readonly code = ErrorCode.StepInterrupted;
  constructor(
    readonly runId: string,
    readonly jobId: string,
  ) {
    super(`step job ${jobId} of run ${runId} was interrupted by a shutdown`);
  }
}
