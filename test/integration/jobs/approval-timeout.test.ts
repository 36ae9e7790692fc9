import { Queue, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_QUEUE, type StepJobData } from '../../../src/jobs/queues.js';
import { bullPrefix } from '../../../src/jobs/run-log/keys.js';
import { approvalExpiryJobIdFor } from '../../../src/runbook/index.js';
import { APPROVER, type RunWatcher, STARTER, startRun, startWorld, type World } from './fixtures.js';

// The approval timeout end to end: the delayed check the engine asks for fires on the step queue, expires the
// approval nobody gave and pauses the run; a check for a round that was approved meanwhile does nothing.

const TIMEOUT_MS = 1500;

let world: World;
let watcher: RunWatcher | undefined;
let queue: Queue<StepJobData>;
let queueEvents: QueueEvents;

beforeAll(async () => {
  world = await startWorld({ sim: { faults: ['hash-drift'] }, runtime: { approvalTimeoutMs: TIMEOUT_MS } });
  queue = new Queue<StepJobData>(STEP_QUEUE, {
    connection: world.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix: bullPrefix(world.prefix),
  });
  queueEvents = new QueueEvents(STEP_QUEUE, {
    connection: world.redis.duplicate({ maxRetriesPerRequest: null }),
    prefix: bullPrefix(world.prefix),
  });
  await queueEvents.waitUntilReady();
});

afterAll(async () => {
  await watcher?.close();
  await queueEvents?.close();
  await queue?.close();
  await world?.close();
});

/** What the job returned once it has run. */
async function returned(jobId: string): Promise<unknown> {
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`no job ${jobId}`);
  return job.waitUntilFinished(queueEvents, 10_000);
}

describe('an approval nobody gives in time', () => {
  it('expires, pauses the run with Retry and Abort, and Retry asks again under a new expiry', async () => {
    const { service } = world;
    const w = await startRun(service, 'event-log');
    watcher = w;
    const runId = w.runId;

    const paused = await w.until((s) => s.status === 'paused');
    const asked = w.ofType('approval_requested')[0];
    const expired = w.ofType('approval_expired')[0];
    expect(expired).toMatchObject({ stepId: 'approve_stop_writes', round: 1, timeoutMs: TIMEOUT_MS });
    expect(Date.parse(expired?.at ?? '') - Date.parse(asked?.at ?? '')).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(paused.pause).toMatchObject({ stepId: 'approve_stop_writes', options: ['retry', 'abort'] });
    expect(paused.pause?.reason).toMatch(/^approval timed out after 1\.5 s; nobody of U0APPROVER, U0LEAD approved/);
    expect(paused.steps.stop_writes).toBeUndefined();
    expect(await returned(approvalExpiryJobIdFor(runId, 'approve_stop_writes', 1))).toBe('expired');

    // Retry asks the next round; this time it is approved at once and the run goes on.
    const retried = await service.retry(runId, { actor: STARTER });
    expect(retried.ok).toBe(true);
    const again = await w.until((s) => s.pendingApproval?.round === 2);
    const approved = await service.approve(runId, {
      stepId: 'approve_stop_writes',
      actor: APPROVER,
      fingerprint: again.pendingApproval?.fingerprint as string,
    });
    expect(approved.ok).toBe(true);

    // The next approval nobody gives expires in turn; by then the approved round's check has fired for nothing.
    const second = await w.until((s) => s.status === 'paused' && s.pause?.stepId === 'approve_preserve');
    expect(second.steps.stop_writes?.status).toBe('passed');
    expect(w.ofType('approval_expired').map((e) => [e.stepId, e.round])).toEqual([
      ['approve_stop_writes', 1],
      ['approve_preserve', 1],
    ]);
    expect(await returned(approvalExpiryJobIdFor(runId, 'approve_stop_writes', 2))).toBe('stale');

    const aborted = await service.abort(runId, { actor: STARTER, reason: 'nobody on call can approve' });
    expect(aborted.ok).toBe(true);
    const end = await w.until((s) => s.outcome !== null);
    expect(end.outcome?.outcome).toBe('aborted');
    expect(world.sim.hostActionCounts().preserve_database ?? 0).toBe(0);
  });
});
