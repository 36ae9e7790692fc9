import { DgError, ErrorCode } from '../errors.js';

/**
 * The envelope every run event carries. The payload beyond it is opaque to the stores: they keep the event as the
 * plain JSON they were given and hand it back unchanged.
 */
export interface RunEventEnvelope {
  readonly runId: string;
  /** 1-based, contiguous per run. */
  readonly seq: number;
  readonly type: string;
  /** ISO 8601 with a time zone, e.g. `new Date().toISOString()`. */
  readonly at: string;
}

/** An event as read back from a store: the envelope plus whatever payload it was appended with. */
export type StoredRunEvent = RunEventEnvelope & { readonly [key: string]: unknown };

/** The event types that end a run; the journal's run status and the active-run index follow them. */
export const RUN_STARTED = 'run_started';
export const RUN_FINISHED = 'run_finished';
export const RUN_ABORTED = 'run_aborted';
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set([RUN_FINISHED, RUN_ABORTED]);

export class RunEventInvalidError extends DgError {
  readonly code = ErrorCode.RunEventInvalid;
  constructor(readonly problems: readonly string[]) {
    super(`invalid run event:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;
const MAX_ID_LENGTH = 200;
const MAX_TYPE_LENGTH = 100;

/**
 * Checks the envelope and that the event survives JSON and Postgres `jsonb` unchanged. Returns one problem per
 * line, naming the field and the event's position, never echoing payload values.
 */
export function envelopeProblems(event: unknown, index: number): string[] {
  const where = `event #${index + 1}`;
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return [`${where}: must be an object`];
  const e = event as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof e.runId !== 'string' || e.runId.length === 0 || e.runId.length > MAX_ID_LENGTH) {
    problems.push(`${where}: runId must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
  if (typeof e.seq !== 'number' || !Number.isInteger(e.seq) || e.seq < 1 || e.seq > 2_147_483_647) {
    problems.push(`${where}: seq must be a positive integer`);
  }
  if (typeof e.type !== 'string' || e.type.length === 0 || e.type.length > MAX_TYPE_LENGTH) {
    problems.push(`${where}: type must be a string of 1 to ${MAX_TYPE_LENGTH} characters`);
  }
  if (typeof e.at !== 'string' || !ISO_INSTANT.test(e.at) || Number.isNaN(Date.parse(e.at))) {
    problems.push(`${where}: at must be an ISO 8601 instant with a time zone`);
  }
  if (problems.length === 0) {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch {
      return [`${where}: is not serialisable as JSON`];
    }
    // Postgres jsonb refuses NUL characters; an event the journal can never store must not enter the live log.
    if (json.includes('\\u0000')) problems.push(`${where}: contains a NUL character`);
  }
  return problems;
}

/**
 * Validates a batch for one run: every envelope well-formed, all for `runId`, sequence numbers contiguous from
 * `firstSeq` (when given) or from the first event's own.
 */
export function assertRunBatch(runId: string, events: readonly unknown[], firstSeq?: number): void {
  if (events.length === 0) throw new RunEventInvalidError(['the batch is empty']);
  const problems = events.flatMap((e, i) => envelopeProblems(e, i));
  if (problems.length > 0) throw new RunEventInvalidError(problems);
  const typed = events as readonly RunEventEnvelope[];
  const start = firstSeq ?? (typed[0] as RunEventEnvelope).seq;
  typed.forEach((e, i) => {
    if (e.runId !== runId) problems.push(`event #${i + 1}: belongs to another run`);
    if (e.seq !== start + i) problems.push(`event #${i + 1}: seq must be ${start + i}`);
  });
  if (problems.length > 0) throw new RunEventInvalidError(problems);
}
