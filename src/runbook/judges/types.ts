import type { Evidence, StepError } from '../events.js';
import type { Json, JsonObject } from '../json.js';
import type { PreservedCopy } from '../measurements.js';

/** What a judge knows besides the measurement. Everything is data; the clock is `now`, passed in. */
export interface JudgeContext {
  readonly now: Date;
  /** The executor that produced the measurement, e.g. `host.restart_runtime`. */
  readonly executor: string;
  /** The step's parameters, resolved. */
  readonly params: JsonObject;
  /** The step's `expected` values from the scenario data. */
  readonly expected: JsonObject;
  /** What the previous unsatisfied check of this attempt left for the next one (e.g. the first sample). */
  readonly progress: Json | undefined;
  /** Unsatisfied checks so far in this attempt. */
  readonly poll: number;
  /** Replay job ids this run started: their runs are expected in `open_runs`. */
  readonly ownReplayJobIds: readonly string[];
  /** Orphaned replay runs a person has decided about: listed, not held against the gate. */
  readonly acknowledgedRunIds: readonly string[];
  /** The run has a known workflow, so the checklist must read it. */
  readonly workflowExpected: boolean;
  /**
   * When the run started. A backup made since then holds the state the run is repairing, so it is never the one
   * recommended. @defaultValue unknown: every listed backup counts as taken before the run
   */
  readonly runStartedAt?: string;
  /** The id or path the run's preserve step reported for its copy of the broken database: that artifact is it. */
  readonly preservedCopy?: PreservedCopy;
  /**
   * When the run's own copy began to be made, for a preserve step that named no copy: artifacts made from then on
   * are taken for it (a weaker rule, misled by clock skew).
   */
  readonly preservedSince?: string;
  /** Backups (id or path as chosen) this run restored already: listed again, they are marked and not recommended. */
  readonly restoredArtifacts?: readonly string[];
}

/**
 * A judge's reading of one measurement: the step passed (with outputs later steps may use), failed, is not yet
 * satisfied (a poll goes on), or needs a person to act (a host action configured as manual).
 */
export type Verdict =
  | { readonly result: 'passed'; readonly outputs: JsonObject; readonly evidence: Evidence[] }
  | {
      readonly result: 'failed';
      readonly error: StepError;
      readonly transient: boolean;
      /**
       * The request left and no answer came back (reset, closed, timed out): the action may have happened. The
       * engine re-probes or asks people; it never sends it again on its own as if it had failed.
       */
      readonly outcomeUnknown?: true;
      readonly outputs?: JsonObject;
      readonly evidence: Evidence[];
    }
  | {
      readonly result: 'waiting';
      readonly outputs: JsonObject;
      readonly progress?: Json;
      readonly evidence: Evidence[];
    }
  | { readonly result: 'manual'; readonly instructions: string; readonly evidence: Evidence[] };

export type Judge<M> = (measurement: M, ctx: JudgeContext) => Verdict;
