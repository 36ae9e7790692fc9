import { RunLogInvalidError } from './errors.js';
import { type RunEvent, RunEventSchema } from './events.js';

/**
 * Validates one event read from outside (the run log, the journal) against the schema. Throws
 * {@link RunLogInvalidError} naming the field, never echoing values.
 */
export function parseRunEvent(value: unknown): RunEvent {
  const parsed = RunEventSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const v = value as { runId?: unknown; seq?: unknown } | null;
  const issue = parsed.error.issues[0];
  throw new RunLogInvalidError(
    typeof v?.runId === 'string' ? v.runId : undefined,
    typeof v?.seq === 'number' ? v.seq : undefined,
    `does not match the event schema at ${issue?.path.join('.') || '(event)'}: ${issue?.message ?? 'invalid'}`,
  );
}

/** Validates a whole log (order is checked by the fold). */
export function parseRunLog(values: readonly unknown[]): RunEvent[] {
  return values.map(parseRunEvent);
}
