/** DecisionGraph's projections, in the order `all` replays and health lists them. */
export const PROJECTIONS = ['context_graph', 'trace_summary', 'precedent_index'] as const;

export type ProjectionName = (typeof PROJECTIONS)[number];

export function isProjectionName(value: unknown): value is ProjectionName {
  return typeof value === 'string' && (PROJECTIONS as readonly string[]).includes(value);
}

/** A verification failure the projector treats as terminal (not retried), with DecisionGraph's error code. */
export class ProjectionError extends Error {
  constructor(
    readonly code: 'conflict' | 'event_sequence_invalid' | 'schema_violation',
    message: string,
    readonly event: { log_seq: number; trace_id: string; event_id: string },
  ) {
    super(message);
    this.name = 'ProjectionError';
  }
}
