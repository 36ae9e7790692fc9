export * from './api-errors.js';
export * from './client.js';
export type * from './evidence.js';
export * from './rate-budget.js';
export * from './schemas.js';
export * from './shared-rate-budget.js';
