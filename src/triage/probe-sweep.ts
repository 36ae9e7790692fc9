import { type ExecutorContext, executeStep, executorFailureOf } from '../executors/registry/index.js';
import type { Logger } from '../logger.js';
import type { ProbeSweep } from '../runbook/diagnose.js';
import { readOnlyContext } from './read-only-context.js';

// The read-only probe sweep behind `diagnose`. Nothing here writes: no replay (the smoke checks run without their
// replay admission), no workflow read. A probe that cannot run is left out of the sweep and the diagnosis then
// says what was not measured; it never reads as a clean result.

/** Names of the probes a sweep may leave out, as logged. */
export type OptionalProbe = 'smoke' | 'integrity' | 'parity';

export interface SweepOptions {
  /**
   * Told which probes could not run and why (codes and messages, never responses).
   * @defaultValue the context's logger
   */
  readonly logger?: Logger;
}

/**
 * An optional probe's outcome: its measurement, or `undefined` (logged) when it threw one of the project's errors.
 * Anything else is a bug and is rethrown rather than diagnosed around.
 */
function optional<T>(probe: OptionalProbe, run: Promise<T>, logger: Logger): Promise<T | undefined> {
  return run.catch((err: unknown) => {
    const failure = executorFailureOf(err);
    if (failure === undefined) throw err;
    logger.warn({ probe, code: failure.code, reason: failure.message }, 'diagnose probe did not run');
    return undefined;
  });
}

/**
 * Every read-only probe `diagnose` needs. Healthz, the tenant's projection health, `SELECT 1` and the read-only
 * smoke checks (the known trace reads; their failures are what tells a failed upgrade) run side by side; the SQL
 * integrity checks and the event log's size only when Postgres answered, so an outage costs one connect timeout,
 * not three. Each optional probe settles on its own: one that fails leaves the others' results in the sweep.
 * `ctx.signal` cuts the HTTP calls and the integrity scan short.
 */
export async function sweepProbes(context: ExecutorContext, options: SweepOptions = {}): Promise<ProbeSweep> {
  const ctx = readOnlyContext(context);
  const logger = options.logger ?? ctx.logger;
  const [healthz, projectionHealth, sqlReach, smoke] = await Promise.all([
    executeStep('dg.healthz', {}, ctx),
    executeStep('dg.projection_health', {}, ctx),
    executeStep('sql.reach', {}, ctx),
    optional('smoke', executeStep('smoke.checks', { replayAdmission: false }, ctx), logger),
  ]);
  const sweep: { -readonly [K in keyof ProbeSweep]: ProbeSweep[K] } = { healthz, projectionHealth, sqlReach };
  if (smoke !== undefined) sweep.smoke = smoke;
  if (sqlReach.reachable) {
    const [integrity, parity] = await Promise.all([
      optional('integrity', executeStep('sql.integrity', {}, ctx), logger),
      optional('parity', executeStep('sql.parity', {}, ctx), logger),
    ]);
    if (integrity !== undefined) sweep.integrity = integrity;
    if (parity !== undefined) sweep.parity = { current: parity };
  }
  return sweep;
}
