// Triage for every front end (terminal, Slack, start-up log): read-only probes of DecisionGraph and where the bot's
// own state lives. Nothing here writes to DecisionGraph or knows how its results are shown.
export { createDiagnoser, type DiagnoseRequest, type Diagnoser, type DiagnoserOptions } from './diagnoser.js';
export { type HealthReading, readHealth } from './health-reading.js';
export { type OptionalProbe, type SweepOptions, sweepProbes } from './probe-sweep.js';
export { readOnlyContext } from './read-only-context.js';
export { type RedisPersistence, readRedisPersistence, redisPersistenceWarning } from './redis-persistence.js';
export {
  describeStateLocation,
  type ServerAddress,
  type StateLocation,
  type StateLocationOptions,
  sameServer,
  serverOf,
  stateLocation,
  stateLocationNote,
} from './state-location.js';
export { DiagnoseCutOffError } from './triage-errors.js';
