export * from './delivery-records.js';
export * from './journal.js';
export * from './journal-errors.js';
export * from './journal-pool.js';
export * from './migrations.js';
export * from './run-event.js';
export * from './run-row.js';
