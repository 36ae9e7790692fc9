import { HOST_ACTION_NAMES } from '../../config/recovery-config.js';
import { DgError, ErrorCode } from '../../errors.js';
import type { CommandEvidence, HttpEvidence } from './types.js';

/** Thrown before anything runs: no action has that name. */
export class UnknownHostActionError extends DgError {
  readonly code = ErrorCode.HostActionUnknown;
  constructor(readonly action: string) {
    super(`unknown host action "${action.slice(0, 60)}"; valid actions: ${HOST_ACTION_NAMES.join(', ')}`);
  }
}

/**
 * Thrown before anything runs: a parameter value is not safe to hand to a command or webhook. The message names
 * the parameter and the rule, never the value (it may be text a user typed).
 */
export class HostActionParameterInvalidError extends DgError {
  readonly code = ErrorCode.HostActionParameterInvalid;
  constructor(
    readonly parameter: string,
    readonly reason: string,
  ) {
    super(`host action parameter ${parameter.slice(0, 60)} ${reason}`);
  }
}

/** Thrown before anything runs: the action's config uses a placeholder the step supplied no value for. */
export class HostActionParameterMissingError extends DgError {
  readonly code = ErrorCode.HostActionParameterMissing;
  constructor(
    readonly action: string,
    readonly parameter: string,
    readonly where: string,
  ) {
    super(`host action ${action} uses {${parameter}} in its ${where} but no ${parameter} was given`);
  }
}

/**
 * The caller's abort signal fired: a running command was killed, a request cancelled. The outcome on the host is
 * unknown, so this is not a `failed` result; whoever resumes the run re-probes before repeating anything.
 */
export class HostActionAbortedError extends DgError {
  readonly code = ErrorCode.HostActionAborted;
  constructor(
    readonly action: string,
    readonly evidence: CommandEvidence | HttpEvidence | null,
  ) {
    super(`host action ${action} was aborted; its outcome on the host is unknown`);
  }
}
