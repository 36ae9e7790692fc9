export { type HostActionPlan, planHostAction } from './action-plan.js';
export { parseBackupList } from './backup-list.js';
export {
  HostActionAbortedError,
  HostActionParameterInvalidError,
  HostActionParameterMissingError,
  UnknownHostActionError,
} from './errors.js';
export { checkParameters, PARAMETER_MAX_LENGTH } from './parameters.js';
export { parsePreservedCopy } from './preserved-copy.js';
export { type RunHostActionOptions, runHostAction } from './run-host-action.js';
export type {
  Backup,
  CommandEvidence,
  HostActionFailure,
  HostActionOutput,
  HostActionResult,
  HostActionStatus,
  HttpEvidence,
  ManualEvidence,
  PreservedCopy,
} from './types.js';
export { BACKUP_LIST_MAX_BYTES, OUTPUT_TAIL_BYTES } from './types.js';
