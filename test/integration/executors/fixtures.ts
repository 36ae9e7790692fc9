import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { SimulatorHandle, SimulatorOptions } from '../../../sim/index.js';
import { startSimulator } from '../../../sim/index.js';
import { type Config, loadConfig } from '../../../src/config/env.js';
import {
  defaultRecoveryConfig,
  parseRecoveryConfig,
  type RecoveryConfig,
} from '../../../src/config/recovery-config.js';
import {
  createExecutorContext,
  type ExecutorContext,
  type ExecutorContextFactory,
  executeStep,
} from '../../../src/executors/registry/index.js';
import { createLogger } from '../../../src/logger.js';
import { type Json, type JsonObject, toJson } from '../../../src/runbook/json.js';
import { DEFAULT_JUDGE, type JudgeName, runJudge, type Verdict } from '../../../src/runbook/judges/index.js';
import type { JudgeContext } from '../../../src/runbook/judges/types.js';
import type { JobExecutorName, Measurement } from '../../../src/runbook/measurements.js';
import { judgeContext } from '../../helpers/judge-context.js';

export const silentLogger = createLogger({ level: 'silent' });

/** The control API's bearer header as a deployment writes it: the token comes from the environment. */
export const CONTROL_AUTH = `Bearer \${env:SIM_CONTROL_TOKEN}`;

/** The conditions a failed or passed checklist verdict lists as failing. */
export function failingConditions(verdict: Verdict): string[] {
  const failing = verdict.result === 'passed' || verdict.result === 'failed' ? verdict.outputs?.failing : undefined;
  return Array.isArray(failing) ? failing.map((f) => String((f as { condition?: unknown }).condition)) : [];
}

/** The bot's config pointed at a simulator, as the environment would set it. */
export function configFor(sim: SimulatorHandle, env: Record<string, string> = {}): Config {
  return loadConfig({
    DG_BASE_URL: sim.url,
    DG_API_TOKEN: 'dev-reader-token',
    DG_ADMIN_TOKEN: 'dev-admin-token',
    DG_DATABASE_URL: sim.databaseUrl,
    DG_KNOWN_TRACE_ID: sim.known.traceId,
    ...(sim.known.workflowId ? { DG_KNOWN_WORKFLOW_ID: sim.known.workflowId } : {}),
    DATABASE_URL: 'postgres://root@127.0.0.1:5432/unused',
    ...env,
  });
}

/** A recovery config written the way a deployment writes it: YAML through the real parser. */
export function recoveryWith(actions: Record<string, unknown>, env: Record<string, string> = {}): RecoveryConfig {
  return parseRecoveryConfig(stringify({ actions }), 'executors.test.yaml', {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...env,
  });
}

export interface Harness {
  readonly sim: SimulatorHandle;
  readonly factory: ExecutorContextFactory;
  ctx(runId?: string, signal?: AbortSignal): ExecutorContext;
  close(): Promise<void>;
}

/** A simulator with a small history and the executor context pointed at it. */
export async function startHarness(
  opts: SimulatorOptions = {},
  recovery: (sim: SimulatorHandle) => RecoveryConfig = () => defaultRecoveryConfig(),
): Promise<Harness> {
  const sim = await startSimulator({ seed: { tracesPerTenant: 20 }, ...opts });
  // The simulator's database URL is its superuser's: the role guard would refuse it (it has its own tests).
  const factory = createExecutorContext(configFor(sim), recovery(sim), {
    logger: silentLogger,
    requireReadOnlyRole: false,
  });
  return {
    sim,
    factory,
    ctx: (runId = 'run-test-1', signal) => factory.forStep({ runId, ...(signal ? { signal } : {}) }),
    async close() {
      await factory.close();
      await sim.close();
    },
  };
}

/** The engine's reading of a measurement: plain JSON first (what a run stores), then the judge. */
export function judge(
  executor: JobExecutorName,
  measurement: Measurement,
  opts: { judge?: JudgeName; params?: JsonObject; ctx?: Partial<JudgeContext> } = {},
): Verdict {
  const stored = JSON.parse(JSON.stringify(measurement)) as Measurement;
  return runJudge(
    opts.judge ?? DEFAULT_JUDGE[executor],
    stored,
    judgeContext(executor, { params: opts.params ?? {}, ...opts.ctx }),
  );
}

/** Runs one executor and judges it, as a step job does. */
export async function step(
  h: Harness,
  executor: JobExecutorName,
  params: JsonObject = {},
  opts: { judge?: JudgeName; ctx?: Partial<JudgeContext> } = {},
): Promise<{ measurement: Measurement; verdict: Verdict }> {
  const measurement = await executeStep(executor, params, h.ctx());
  return { measurement, verdict: judge(executor, measurement, { ...opts, params }) };
}

/** Re-runs a polled step until its judge stops waiting, as the engine's delayed jobs do. */
export async function pollUntilSettled(
  h: Harness,
  executor: JobExecutorName,
  params: JsonObject,
  opts: { judge?: JudgeName; timeoutMs?: number } = {},
): Promise<{ measurement: Measurement; verdict: Verdict; polls: number }> {
  const until = Date.now() + (opts.timeoutMs ?? 10_000);
  let polls = 0;
  let progress: Json | undefined;
  for (;;) {
    const r = await step(h, executor, params, {
      ...(opts.judge ? { judge: opts.judge } : {}),
      ctx: { progress, poll: polls },
    });
    polls += 1;
    if (r.verdict.result !== 'waiting' || Date.now() > until) return { ...r, polls };
    progress = r.verdict.progress;
    await delay(100);
  }
}

export function asJson(value: unknown): Json {
  return toJson(value);
}
