// The job layer: runs of the recovery engine carried by BullMQ step jobs, with the run log in Redis and the journal
// in Postgres. Front ends use `RunService`; a process entry uses `createRecoveryRuntime`.
export { RunBusyError, StepInterruptedError } from './job-errors.js';
export {
  type EnqueueResult,
  enqueueStepJob,
  isLiveJobState,
  STEP_QUEUE,
  type StepJobData,
  type StepJobOptions,
  stepJobOptions,
} from './queues.js';
export type { ReconcileReport, Reconciler, ReconcilerOptions } from './reconciler.js';
export { startReconciler } from './reconciler.js';
export { type AdvanceResult, type LaunchResult, RunDriver, slotOf, switchedRunId } from './run-driver.js';
export type { RunEventsBus, SubscribeOptions, Unsubscribe } from './run-events-bus.js';
export { createRunEventsBus } from './run-events-bus.js';
export { accessPolicyOf, createRunService, newRunId } from './run-service.js';
export type {
  ActiveRun,
  CommandOutcome,
  DecideInput,
  RunActor,
  RunService,
  StartOutcome,
  StartRequest,
} from './run-service-port.js';
export { createRecoveryRuntime, type RecoveryRuntime, type RecoveryRuntimeDeps } from './runtime.js';
export { scaleScenarioTiming, type TimeScale } from './scenario-timing.js';
export {
  createStepProcessor,
  type StepJobResult,
  type StepWorker,
  type StepWorkerOptions,
  startStepWorker,
} from './step-worker.js';
