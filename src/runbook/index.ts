// The recovery engine: scenarios as data, the run log and its fold, the pure engine, the judges and the commands
// people send. No I/O anywhere, time comes in as an argument; how the job layer drives it: docs/internals.md#runbook.

export type { TextLines } from '../outside-text.js';
export {
  clipLine,
  isSafeText,
  MAX_ARTIFACT_LABEL,
  MAX_DETAIL_VALUE,
  MAX_LABEL_VALUE,
  safeText,
} from '../outside-text.js';
export type { AccessPolicy, CommandActor } from './access.js';
export { checkPersonText, isListed, OPEN_ACCESS } from './access.js';
export type {
  AbortInput,
  ApprovalInput,
  CommandResult,
  DecisionInput,
  ManualResultInput,
  Refusal,
  RefusalCode,
  RejectionInput,
  RetryInput,
  SkipInput,
  StartResult,
  StartRunInput,
} from './commands.js';
export {
  applyAbort,
  applyApproval,
  applyDecision,
  applyManualResult,
  applyRejection,
  applyRetry,
  applySkip,
  rejectionReopens,
  startRun,
} from './commands.js';
export type { Condition } from './conditions.js';
export { describeCondition, evaluateCondition } from './conditions.js';
export type {
  Diagnosis,
  DiagnosisRule,
  DiagnosisVerdict,
  ParityReference,
  ProbeSweep,
  ReleaseInfo,
} from './diagnose.js';
export { diagnose } from './diagnose.js';
export type {
  ApprovalRound,
  EngineCommand,
  EngineOptions,
  EngineOutput,
  ExpiryResult,
  PauseOption,
} from './engine.js';
export { DEFAULT_APPROVAL_TIMEOUT_MS, decideNext, expireApproval, scenarioChange } from './engine.js';
export {
  RunCommandRefusedError,
  RunLogInvalidError,
  RunLogOutOfOrderError,
  ScenarioInvalidError,
  UnknownScenarioError,
} from './errors.js';
export type {
  Actor,
  DecisionItem,
  DecisionOption,
  Evidence,
  EvidenceSource,
  GateResult,
  HostActionMode,
  RunEvent,
  RunEventOf,
  RunEventType,
  RunOutcome,
  RunParams,
  StepError,
} from './events.js';
export { ActorSchema, EvidenceSchema, MAX_REASON_LENGTH, RUN_EVENT_TYPES, RunEventSchema } from './events.js';
export type { FailingCondition, HealthVerdict } from './health-verdict.js';
export { INSTANT_HINT, InstantSchema, isInstant } from './instant.js';
export { INTERRUPTION_OPTIONS, interruptedAttemptOf, whatToCheck } from './interruptions.js';
export { approvalExpiryJobIdFor, idempotencyKeyFor, isValidRunId, jobIdFor, RUN_ID_PATTERN } from './job-ids.js';
export type { Json, JsonObject } from './json.js';
export { canonicalJson, fingerprintOf } from './json.js';
export type { ArtifactOrigin } from './judges/host.js';
export { PRESERVED_BY_RUN } from './judges/host.js';
export type { Judge, JudgeContext, JudgeName, Verdict } from './judges/index.js';
export { DEFAULT_JUDGE, JUDGE_NAMES, JUDGES, runJudge } from './judges/index.js';
export type * from './measurements.js';
export { EXECUTOR_NAMES, hostActionOf, INTEGRITY_CHECKS } from './measurements.js';
export type { ParamRef, ParamValue } from './params.js';
export { parseRunEvent, parseRunLog } from './parse.js';
export { MAX_LISTED_OPTIONS } from './requests.js';
export type { SkippedFailure } from './safety-checks.js';
export { skipNeedsSecondPerson, skippedFailures } from './safety-checks.js';
export { findStep } from './scenario-lookup.js';
export type {
  ApprovalStep,
  DecisionStep,
  Effect,
  ExecutorStep,
  OptionSpec,
  Poll,
  Retry,
  Risk,
  Scenario,
  ScenarioInput,
  ScenarioName,
  Step,
  StepKind,
} from './scenario-schema.js';
export { isExecutorStep, parseScenario, SCENARIO_NAMES, ScenarioSchema } from './scenario-schema.js';
export { findScenario, getScenario, loadScenarios, resolveScenario, scenarioChoices } from './scenarios/index.js';
export type {
  ApprovalRecord,
  DecisionRecord,
  PendingApproval,
  PendingDecision,
  PendingManual,
  RunState,
  RunStatus,
  SkipRequest,
  StepSkip,
  StepState,
  StepStatus,
} from './state.js';
export { foldOnto, foldRun, pendingApprovalOf, reduce, stepState } from './state.js';
export type { BeginStep, ExecutorCall, RecordResult, StepJob, StepOutcome, StepReport } from './step-runner.js';
export { beginStep, DEFAULT_TIMEOUT_MS, recordOutcome, retryPolicy } from './step-runner.js';
export type { Moment } from './time-format.js';
export { formatDuration, formatInstant, formatOffset, msBetween } from './time-format.js';
export type { RunView, StepView } from './view.js';
export { viewRun } from './view.js';
export type { OpenWait, WaitKind, WhoMayAnswer } from './waiting.js';
export { openWait, whoIsAwaited, whoMayAnswer } from './waiting.js';
export { actsOnWorld, holdStep, isWriteThrough } from './write-through.js';
