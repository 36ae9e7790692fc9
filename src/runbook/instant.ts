import { z } from 'zod';

/** An ISO 8601 instant with a zone (`2026-03-07T11:40:00Z`, `…+02:00`): how a person gives a time to compare with. */
export const InstantSchema = z.iso.datetime({ offset: true });

export function isInstant(text: string): boolean {
  return InstantSchema.safeParse(text).success;
}

/** What to type, for an error message. */
export const INSTANT_HINT = 'an ISO 8601 time with a zone, e.g. 2026-03-07T11:40:00Z';
