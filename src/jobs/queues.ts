import type { JobState, JobsOptions, Queue } from 'bullmq';
import type { EngineCommand } from '../runbook/index.js';

/** The BullMQ queue of step jobs, under the deployment's key prefix. */
export const STEP_QUEUE = 'dgr-steps';
export const STEP_JOB = 'step';
/** The delayed check that expires an approval nobody gave; it shares the step queue and its workers. */
export const APPROVAL_TIMEOUT_JOB = 'approval-timeout';

/** What a step job carries: which run, and for people reading the queue, which step. Never a secret. */
export interface StepJobData {
  readonly runId: string;
  readonly stepId: string;
  readonly attempt: number;
  /** 0 for a step attempt, n for the n-th re-check of a polled step. */
  readonly poll: number;
  /** Approval-timeout jobs: the round of the approval they expire. */
  readonly round?: number;
}

export type StepJobCommand = Extract<EngineCommand, { type: 'run_step' | 'check_again' }>;

export function isStepJobCommand(command: EngineCommand): command is StepJobCommand {
  return command.type === 'run_step' || command.type === 'check_again';
}

export interface StepJobRetention {
  /** Seconds a completed job stays visible in the queue. @defaultValue 3600 */
  readonly completedAgeSeconds?: number;
  /** Seconds a failed job stays visible. @defaultValue 604800 (7 days) */
  readonly failedAgeSeconds?: number;
}

export interface StepJobOptions extends StepJobRetention {
  /**
   * Deliveries of one job before it fails. These cover infrastructure errors only (Redis hiccups, a worker shut
   * down mid-call); a step's own failures are retried by the engine with the step's policy. @defaultValue 5
   */
  readonly attempts?: number;
  /** First delay after an infrastructure error; doubles per delivery. @defaultValue 1000 */
  readonly backoffMs?: number;
}

export function stepJobOptions(options: StepJobOptions = {}): JobsOptions {
  return {
    attempts: options.attempts ?? 5,
    backoff: { type: 'exponential', delay: options.backoffMs ?? 1000 },
    removeOnComplete: { age: options.completedAgeSeconds ?? 3600, count: 10_000 },
    removeOnFail: { age: options.failedAgeSeconds ?? 7 * 24 * 3600, count: 10_000 },
  };
}

/** States in which a job will still run (or is running): the run needs no other push. */
const LIVE_STATES: ReadonlySet<JobState | 'unknown'> = new Set([
  'waiting',
  'delayed',
  'active',
  'prioritized',
  'waiting-children',
]);

export function isLiveJobState(state: JobState | 'unknown'): boolean {
  return LIVE_STATES.has(state);
}

export type EnqueueResult =
  | { readonly enqueued: true; readonly replaced: boolean }
  /** A job with this id is waiting, delayed or running (possibly since this very add). */
  | { readonly enqueued: false; readonly state: JobState | 'unknown' };

/**
 * Adds the job the engine asked for. The id is the engine's, so adding it again while it waits or runs changes
 * nothing. A finished job with the same id (a delivery that was dropped, or that failed on infrastructure and ran
 * out of attempts) would swallow the add, so it is removed first: the run still wants that job.
 */
export async function enqueueStepJob(
  queue: Queue<StepJobData>,
  runId: string,
  command: StepJobCommand,
  options: JobsOptions,
): Promise<EnqueueResult> {
  const data: StepJobData = {
    runId,
    stepId: command.stepId,
    attempt: command.attempt,
    poll: command.type === 'check_again' ? command.poll : 0,
  };
  return addOnce(queue, STEP_JOB, command.jobId, data, command.delayMs, options);
}

/**
 * Schedules the expiry check of the approval the run waits for, at its `expiresAt`. Added again on every advance
 * of the run, like a step job: once per round while it waits, and again if it fired early or was lost.
 */
export async function enqueueApprovalTimeout(
  queue: Queue<StepJobData>,
  runId: string,
  command: Extract<EngineCommand, { type: 'await_approval' }>,
  options: JobsOptions,
): Promise<EnqueueResult> {
  const data: StepJobData = { runId, stepId: command.stepId, attempt: 0, poll: 0, round: command.round };
  return addOnce(queue, APPROVAL_TIMEOUT_JOB, command.expiryJobId, data, command.expiryDelayMs, options);
}

async function addOnce(
  queue: Queue<StepJobData>,
  name: string,
  jobId: string,
  data: StepJobData,
  delayMs: number,
  options: JobsOptions,
): Promise<EnqueueResult> {
  const add = () => queue.add(name, data, { ...options, jobId, delay: Math.max(0, delayMs) });
  // Look and add in one round trip (the step path). Either order reads right: the add cannot touch a finished job,
  // a job unknown to the look was created by the add, and a live one is live whoever added it.
  const [state] = await Promise.all([queue.getJobState(jobId), add()]);
  if (state === 'unknown') return { enqueued: true, replaced: false };
  if (isLiveJobState(state)) return { enqueued: false, state };
  // Finished under this id (completed or failed): the add changed nothing, so the old job makes room for it.
  await (await queue.getJob(jobId))?.remove();
  await add();
  return { enqueued: true, replaced: true };
}
