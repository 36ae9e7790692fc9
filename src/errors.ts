/**
 * The one registry of error codes. Errors are matched by `code`, never by message. Every code here is documented
 * in `docs/errors.md`; a test keeps the two in step.
 */
export const ErrorCode = {
  // Configuration and start-up
  ConfigInvalid: 'DG_ERR_CONFIG_INVALID',
  RecoveryConfigInvalid: 'DG_ERR_RECOVERY_CONFIG_INVALID',
  UnsafeDatabaseRole: 'DG_ERR_UNSAFE_DATABASE_ROLE',

  // DecisionGraph HTTP API: one code per outcome the contract lists, plus transport failures
  ApiInvalidArgument: 'DG_ERR_API_INVALID_ARGUMENT',
  ApiUnauthorized: 'DG_ERR_API_UNAUTHORIZED',
  ApiForbidden: 'DG_ERR_API_FORBIDDEN',
  ApiNotFound: 'DG_ERR_API_NOT_FOUND',
  ApiConflict: 'DG_ERR_API_CONFLICT',
  ApiProjectionOutOfDate: 'DG_ERR_API_PROJECTION_OUT_OF_DATE',
  ApiUnprocessable: 'DG_ERR_API_UNPROCESSABLE',
  ApiRateLimited: 'DG_ERR_API_RATE_LIMITED',
  ApiInternal: 'DG_ERR_API_INTERNAL',
  ApiStorage: 'DG_ERR_API_STORAGE',
  ApiUnexpectedStatus: 'DG_ERR_API_UNEXPECTED_STATUS',
  ApiUnreachable: 'DG_ERR_API_UNREACHABLE',
  ApiTimeout: 'DG_ERR_API_TIMEOUT',
  ApiConnectionReset: 'DG_ERR_API_CONNECTION_RESET',
  ContractViolation: 'DG_ERR_CONTRACT_VIOLATION',

  // DecisionGraph Postgres probes
  SqlUnreachable: 'DG_ERR_SQL_UNREACHABLE',
  SqlTimeout: 'DG_ERR_SQL_TIMEOUT',
  SqlQueryFailed: 'DG_ERR_SQL_QUERY_FAILED',

  // Host actions (restart, restore, switch release…) run as commands, webhooks or manual steps
  HostActionUnknown: 'DG_ERR_HOST_ACTION_UNKNOWN',
  HostActionParameterInvalid: 'DG_ERR_HOST_ACTION_PARAMETER_INVALID',
  HostActionParameterMissing: 'DG_ERR_HOST_ACTION_PARAMETER_MISSING',
  HostActionFailed: 'DG_ERR_HOST_ACTION_FAILED',
  HostActionTimeout: 'DG_ERR_HOST_ACTION_TIMEOUT',
  HostActionUnreachable: 'DG_ERR_HOST_ACTION_UNREACHABLE',
  HostActionNoAnswer: 'DG_ERR_HOST_ACTION_NO_ANSWER',
  HostActionBadOutput: 'DG_ERR_HOST_ACTION_BAD_OUTPUT',
  HostActionAborted: 'DG_ERR_HOST_ACTION_ABORTED',

  // The bot's own Postgres journal of runs
  JournalUnavailable: 'DG_ERR_JOURNAL_UNAVAILABLE',
  JournalTimeout: 'DG_ERR_JOURNAL_TIMEOUT',
  JournalQueryFailed: 'DG_ERR_JOURNAL_QUERY_FAILED',
  JournalMigrationFailed: 'DG_ERR_JOURNAL_MIGRATION_FAILED',
  JournalConflict: 'DG_ERR_JOURNAL_CONFLICT',
  JournalGap: 'DG_ERR_JOURNAL_GAP',
  JournalDrainTimeout: 'DG_ERR_JOURNAL_DRAIN_TIMEOUT',

  // The live run log in Redis and the run slots
  RunEventInvalid: 'DG_ERR_RUN_EVENT_INVALID',
  RunLogConflict: 'DG_ERR_RUN_LOG_CONFLICT',
  RunLogUnavailable: 'DG_ERR_RUN_LOG_UNAVAILABLE',
  RunSlotTaken: 'DG_ERR_RUN_SLOT_TAKEN',

  // The recovery engine: run-log fold, scenario data, commands people send
  RunLogOutOfOrder: 'DG_ERR_RUN_LOG_OUT_OF_ORDER',
  RunLogInvalid: 'DG_ERR_RUN_LOG_INVALID',
  ScenarioInvalid: 'DG_ERR_SCENARIO_INVALID',
  UnknownScenario: 'DG_ERR_UNKNOWN_SCENARIO',
  RunCommandRefused: 'DG_ERR_RUN_COMMAND_REFUSED',

  // The job layer: step jobs, run commands, the runtime
  RunBusy: 'DG_ERR_RUN_BUSY',
  StepInterrupted: 'DG_ERR_STEP_INTERRUPTED',

  // Step executors: the registry the job layer calls to measure the world for one step
  ExecutorUnknown: 'DG_ERR_EXECUTOR_UNKNOWN',
  ExecutorParamsInvalid: 'DG_ERR_EXECUTOR_PARAMS_INVALID',

  // The Slack outbox: the only path by which run messages reach Slack
  OutboxMessageInvalid: 'DG_ERR_OUTBOX_MESSAGE_INVALID',
  OutboxUnavailable: 'DG_ERR_OUTBOX_UNAVAILABLE',
  OutboxDrainTimeout: 'DG_ERR_OUTBOX_DRAIN_TIMEOUT',

  // The Slack front end: the incident summary file and user-group membership
  SummaryUploadFailed: 'DG_ERR_SUMMARY_UPLOAD_FAILED',
  ChartRenderFailed: 'DG_ERR_CHART_RENDER_FAILED',
  UserGroupLookupFailed: 'DG_ERR_USER_GROUP_LOOKUP_FAILED',
  // The Slack front end: requests refused before any listener runs, and the bot token checked at start-up
  SlackRequestTooLarge: 'DG_ERR_SLACK_REQUEST_TOO_LARGE',
  SlackRequestUnverified: 'DG_ERR_SLACK_REQUEST_UNVERIFIED',
  SlackRequestMalformed: 'DG_ERR_SLACK_REQUEST_MALFORMED',
  SlackRequestRepeated: 'DG_ERR_SLACK_REQUEST_REPEATED',
  SlackRequestUncheckable: 'DG_ERR_SLACK_REQUEST_UNCHECKABLE',
  SlackAuthFailed: 'DG_ERR_SLACK_AUTH_FAILED',

  // Triage: the read-only probes behind status and diagnose
  DiagnoseCutOff: 'DG_ERR_DIAGNOSE_CUT_OFF',

  // Alert intake: Alertmanager's webhook
  AlertUnauthorized: 'DG_ERR_ALERT_UNAUTHORIZED',
  AlertPayloadInvalid: 'DG_ERR_ALERT_PAYLOAD_INVALID',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error the project raises on purpose: a stable `code`, an optional `cause`. */
export abstract class DgError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

export function isDgError(value: unknown): value is DgError {
  return value instanceof DgError;
}

/** One problem per line, naming the variable or key, never its value. */
export class ConfigInvalidError extends DgError {
  readonly code = ErrorCode.ConfigInvalid;
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export class RecoveryConfigInvalidError extends DgError {
  readonly code = ErrorCode.RecoveryConfigInvalid;
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid recovery config ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** DecisionGraph's database role can write to tables the bot must never write to. */
export class UnsafeDatabaseRoleError extends DgError {
  readonly code = ErrorCode.UnsafeDatabaseRole;
  constructor(
    readonly role: string,
    readonly writableTables: readonly string[],
  ) {
    super(
      `the DecisionGraph database role "${role}" can write to ${writableTables.join(', ')}; ` +
        'the bot needs a read-only role (GRANT SELECT only)',
    );
  }
}
