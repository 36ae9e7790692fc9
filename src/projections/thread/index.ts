export * from '../../slack/action-values.js';
export { RESULT_KEY } from './alerts.js';
export { HEADER_KEY } from './draft.js';
export { stepIdOfKey } from './message-step.js';
export { type ActionPlanOf, buildThreadModel, type ThreadModel } from './model.js';
export { reminderDueAt, reminderKey } from './reminders.js';
export {
  DEFAULT_REMINDER_MS,
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
