export * from '../../slack/action-values.js';
export { RESULT_KEY } from './alerts.js';
export { reminderDueAt, reminderKey } from './approval-message.js';
export { HEADER_KEY } from './draft.js';
export { stepIdOfKey } from './message-step.js';
export { buildThreadModel, type ThreadModel } from './model.js';
export {
  DEFAULT_APPROVAL_REMINDER_MS,
  orderOf,
  type RenderThreadOptions,
  renderThread,
} from './render-thread.js';
export { stepKey } from './step-basics.js';
export {
  incidentFileName,
  incidentSummaryMarkdown,
  incidentSummaryMessage,
  SUMMARY_KEY,
  type SummaryContent,
} from './summary-message.js';
