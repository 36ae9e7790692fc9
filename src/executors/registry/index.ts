export { type ActionPlanText, actionPlanText } from './action-plans.js';
export { callFailureOf, callResultOf, sqlFailureOf } from './adapters.js';
export {
  type Clock,
  createExecutorContext,
  type ExecutorContext,
  type ExecutorContextFactory,
  type ExecutorDeps,
  type StepScope,
} from './context.js';
export { ExecutorParamsInvalidError, ExecutorUnknownError } from './errors.js';
export { hostMeasurementOf } from './host-executors.js';
export type { StepParams } from './params.js';
export {
  EXECUTORS,
  type Executor,
  type ExecutorFailure,
  executeStep,
  executorFailureOf,
  isJobExecutorName,
  measureStep,
} from './registry.js';
export {
  checkDatabaseRoleAtStart,
  guardReadOnlyRole,
  readOnlyRoleHowTo,
  type StartupRoleCheckOptions,
  type StartupRoleVerdict,
  unsafeRoleRefusal,
} from './role-guard.js';
