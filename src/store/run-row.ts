import { RUN_ABORTED, RUN_FINISHED, RUN_STARTED, type StoredRunEvent } from './run-event.js';

export type JournalRunStatus = 'running' | 'finished' | 'aborted';

/** The journal's summary row of a run, folded from its events. */
export interface JournalRun {
  readonly runId: string;
  readonly scenario: string | null;
  readonly tenantId: string | null;
  readonly status: JournalRunStatus;
  readonly startedBy: string | null;
  /** ISO instant of `run_started`, or of the run's first event until that arrives. */
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly outcome: string | null;
  readonly summaryMd: string | null;
  /** Highest journaled sequence number; the journal always holds 1..lastSeq without holes. */
  readonly lastSeq: number;
  readonly updatedAt: string;
}

export type RunRowState = Omit<JournalRun, 'summaryMd' | 'updatedAt'>;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.length > 0 ? value : undefined;

/** `startedBy` is an actor object (`{id, name?, via}`) in run events; a bare string is accepted too. */
function actorName(value: unknown): string | undefined {
  if (typeof value === 'string') return text(value);
  if (value !== null && typeof value === 'object') {
    const actor = value as { id?: unknown; name?: unknown };
    return text(actor.id) ?? text(actor.name);
  }
  return undefined;
}

/**
 * Applies events (in sequence order, following `previous.lastSeq`) to a run's row. Only the envelope's `type` and
 * the optional `scenario`, `tenantId`, `startedBy` and `outcome` fields are read; everything else is payload.
 */
export function foldRunRow(previous: RunRowState | undefined, events: readonly StoredRunEvent[]): RunRowState {
  const first = events[0];
  if (!previous && !first) throw new Error('foldRunRow needs a previous row or at least one event');
  let row: RunRowState = previous ?? {
    runId: (first as StoredRunEvent).runId,
    scenario: null,
    tenantId: null,
    status: 'running',
    startedBy: null,
    startedAt: (first as StoredRunEvent).at,
    finishedAt: null,
    outcome: null,
    lastSeq: 0,
  };
  for (const e of events) {
    row = {
      ...row,
      scenario: text(e.scenario) ?? row.scenario,
      tenantId: text(e.tenantId) ?? row.tenantId,
      startedBy: actorName(e.startedBy) ?? row.startedBy,
      lastSeq: e.seq,
    };
    if (e.type === RUN_STARTED) {
      row = { ...row, status: 'running', startedAt: e.at, finishedAt: null, outcome: null };
    } else if (e.type === RUN_FINISHED) {
      row = { ...row, status: 'finished', finishedAt: e.at, outcome: text(e.outcome) ?? row.outcome };
    } else if (e.type === RUN_ABORTED) {
      row = { ...row, status: 'aborted', finishedAt: e.at, outcome: text(e.outcome) ?? 'aborted' };
    }
  }
  return row;
}
