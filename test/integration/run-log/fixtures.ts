import { randomBytes } from 'node:crypto';
import { removeAllQueueData } from 'bullmq';
import type { Redis } from 'ioredis';
import { createLogger } from '../../../src/logger.js';
import { deleteKeysUnder } from '../../helpers/redis-keys.js';

export const silentLogger = () => createLogger({ level: 'silent' });

/** A key prefix of the test's own, so parallel files never see each other's keys or queues. */
export function randomPrefix(): string {
  return `dgrtest-${randomBytes(5).toString('hex')}:`;
}

/** Removes the journal queue and every other key under the prefix. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  await removeAllQueueData(redis.duplicate(), 'journal', prefix.replace(/:$/, ''));
  await deleteKeysUnder(redis, prefix);
}

export interface TestEvent {
  runId: string;
  seq: number;
  type: string;
  at: string;
  [key: string]: unknown;
}

/** `count` events from `from` on; the first of a run is `run_started` unless told otherwise. */
export function makeEvents(
  runId: string,
  from: number,
  count: number,
  extra: Record<string, unknown> = {},
): TestEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = from + i;
    return {
      runId,
      seq,
      type: seq === 1 ? 'run_started' : 'step_passed',
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      step: `step-${seq}`,
      evidence: { measured: seq, nested: { ok: true } },
      ...extra,
    };
  });
}
