export { OUTBOX_METADATA_EVENT, PARENT_CYCLE, PARENT_FAILED } from './deliver-run.js';
export { type FitResult, fitMessageToLimits, type MessageBody, textOnlyBody } from './fit-message.js';
export * from './outbox-errors.js';
export { createOutboxSlackClient, type OutboxSlackClientOptions } from './slack-client.js';
export { createSlackOutbox, SLACK_OUTBOX_QUEUE, type SlackOutbox, type SlackOutboxOptions } from './slack-outbox.js';
export * from './types.js';
