export * from './journal-queue.js';
export * from './journal-sync.js';
export * from './journal-writer.js';
export { DEFAULT_PREFIX, type RunSlotScope, runEventChannels } from './keys.js';
export * from './recovery.js';
export * from './run-log-errors.js';
export * from './run-log-store.js';
