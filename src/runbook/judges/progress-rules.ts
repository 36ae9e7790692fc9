import type { ProjectorBody } from '../measurements.js';

/**
 * How one projection-health step decides between "current", "catching up" and "behind and not moving", and why.
 * Pure, so the rules can be read and tested on their own.
 */

export interface ProgressSample {
  readonly cursors: Readonly<Record<string, number>>;
  readonly pending: Readonly<Record<string, number>>;
}

export interface ProgressInput {
  /** Every projection at the tail and none stale. */
  readonly current: boolean;
  readonly now: ProgressSample;
  /** The step's earlier reading, if it took one. */
  readonly previous?: ProgressSample;
  /** healthz `projector` read alongside, when it answered. */
  readonly projector?: ProjectorBody;
}

export type ProgressReason =
  /** Nothing pending. */
  | 'at_tail'
  /** A behind projection's cursor moved since the earlier reading. */
  | 'cursor_moved'
  /** Pending events, no worker and no replay job on the node: nothing can move them (contract §8). */
  | 'idle_workers'
  /** Two readings and no cursor moved. */
  | 'no_cursor_moved'
  /** Workers or a replay job run, or healthz did not answer: only a second reading tells. */
  | 'needs_second_reading';

export interface ProgressDecision {
  readonly state: 'current' | 'catching_up' | 'behind_not_moving' | 'sampling';
  readonly reason: ProgressReason;
  /** Behind projections whose cursor moved. */
  readonly moved: readonly string[];
}

function movedSince(now: ProgressSample, previous: ProgressSample): string[] {
  return Object.keys(now.cursors).filter((name) => {
    const before = previous.cursors[name];
    const cursor = now.cursors[name] ?? 0;
    return (now.pending[name] ?? 0) > 0 && before !== undefined && cursor > before;
  });
}

/** Nothing on the node can move a cursor: every tenant's workers are idle and no replay job runs. */
export function nothingRunning(projector: ProjectorBody | undefined): boolean {
  return projector !== undefined && projector.active_workers === 0 && projector.active_replay_jobs === 0;
}

export function decideProgress(input: ProgressInput): ProgressDecision {
  if (input.current) return { state: 'current', reason: 'at_tail', moved: [] };
  const moved = input.previous ? movedSince(input.now, input.previous) : [];
  if (moved.length > 0) return { state: 'catching_up', reason: 'cursor_moved', moved };
  if (nothingRunning(input.projector)) return { state: 'behind_not_moving', reason: 'idle_workers', moved };
  if (input.previous) return { state: 'behind_not_moving', reason: 'no_cursor_moved', moved };
  return { state: 'sampling', reason: 'needs_second_reading', moved };
}
