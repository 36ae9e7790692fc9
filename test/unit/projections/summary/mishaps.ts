import {
  type EngineCommand,
  type ExecutorCall,
  expireApproval,
  type HostActionMode,
  INTERRUPTION_OPTIONS,
  type ScenarioName,
} from '../../../../src/runbook/index.js';
import { append, type Drive, INCIDENT, type Policy, run, runJob, start, step } from '../../../helpers/engine-drive.js';
import type { World } from '../../../helpers/engine-world.js';
import { ACCESS, ANA, BO, type Driven } from './drive.js';

// Runs with the mishaps the job layer and a busy team add to an incident: a worker that dies inside a host action,
// an approval nobody gives in time. Same crew and clock as the golden runs.

const CREW = { starter: ANA, approver: BO, access: ACCESS, channelId: 'C0INCIDENT' };

/** Thrown by the world to stand for the worker dying after the action reached the host. */
class WorkerDied extends Error {}

/** A run on the incident clock, its host actions configured as `modes` tells the engine. */
export function startWith(
  world: World,
  name: ScenarioName,
  modes: Readonly<Record<string, HostActionMode>>,
  runId = `run-${name}-mishaps`,
): Drive {
  const d = start(world, name, { crew: CREW, pace: INCIDENT, params: { traceId: 'trace-7f3a' }, runId });
  d.engine = { hostActionModes: modes };
  return d;
}

/**
 * Drives `d` until the first attempt of `stepId` has made its call (the world applies its effect) and the worker
 * dies before recording the outcome; the job is delivered again `downMs` later, as BullMQ does once the lock
 * expires. Returns once that delivery has run.
 */
export function dieInside(d: Drive, stepId: string, policy: Policy = {}, downMs = 95_000): void {
  let died = false;
  const intercept = (call: ExecutorCall, at: string) => {
    if (died || at !== stepId) return policy.intercept?.(call, at, d.state);
    died = true;
    d.world.respond(call);
    throw new WorkerDied(stepId);
  };
  for (let i = 0; i < 300; i++) {
    try {
      if (step(d, { ...policy, intercept }) === 'stop') throw new Error(`run stopped before ${stepId}`);
    } catch (err) {
      if (!(err instanceof WorkerDied)) throw err;
      const cmd = d.commands.at(-1) as Extract<EngineCommand, { type: 'run_step' }>;
      d.now = new Date(d.now.getTime() + downMs);
      runJob(d, cmd.jobId, policy);
      return;
    }
  }
  throw new Error(`${stepId} never ran`);
}

/** Drives until `stepId` asks for an approval nobody gives, and lets it expire; the run is then paused. */
export function expireApprovalOf(d: Drive, stepId: string, policy: Policy = {}): void {
  run(d, {
    ...policy,
    approve: (cmd, s) => (cmd.stepId === stepId ? 'stop' : (policy.approve?.(cmd, s) ?? 'approve')),
  });
  const open = d.commands.at(-1);
  if (open?.type !== 'await_approval' || open.stepId !== stepId) throw new Error(`stopped at ${open?.type}`);
  d.now = new Date(open.expiresAt);
  const out = expireApproval(d.state, d.scenario, d.now, d.engine, { stepId: open.stepId, round: open.round });
  if (out.kind !== 'expired') throw new Error(out.kind);
  append(d, out.events);
}

export const EVENT_LOG_COMMANDS: Readonly<Record<string, HostActionMode>> = {
  stop_writes: 'command',
  preserve_database: 'command',
  restore_backup: 'command',
};

/**
 * An event-log run whose worker died while stopping writes (a command on the host): Ana checked the load balancer
 * and said it had finished. Then nobody approved preserving the broken database within the hour; Bo asked again
 * and approved, and the run recovered.
 */
export function interruptedEventLog(world: World): Driven {
  const d = startWith(world, 'event-log', EVENT_LOG_COMMANDS);
  dieInside(d, 'stop_writes');
  const decide: Policy['decide'] = (cmd) =>
    cmd.item?.id === 'a1'
      ? {
          optionId: INTERRUPTION_OPTIONS.done,
          reason: 'the load balancer serves the maintenance page; no writes in the access log since 10:02',
        }
      : undefined;
  expireApprovalOf(d, 'approve_preserve', { decide });
  return run(d, { decide, pause: () => ({ retry: true }) });
}
