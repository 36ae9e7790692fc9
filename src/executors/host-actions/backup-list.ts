import { z } from 'zod';
import type { Backup } from './types.js';

/** The id or path of a backup becomes `{artifact}` later, so it must already pass the parameter rules. */
export const artifactRef = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:/@+-]+$/, 'may only contain A-Z a-z 0-9 . _ : / @ + -')
  .refine((v) => !v.startsWith('-'), 'must not start with "-"');

const BackupLine = z.object({
  id: artifactRef,
  path: artifactRef,
  created_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a zone' }),
  size_bytes: z.number({ error: 'must be a number' }).int('must be whole bytes').nonnegative('must not be negative'),
  label: z.string({ error: 'must be a string' }).max(200, 'must be at most 200 characters').nullable().optional(),
  // Any whole number is kept, even a negative one: the approval states an impossible position rather than hide it.
  last_log_seq: z.number({ error: 'must be a number' }).int('must be a whole number').nullable().optional(),
});

export type BackupListParse =
  | { readonly ok: true; readonly backups: Backup[] }
  | { readonly ok: false; readonly line: number; readonly problem: string };

/**
 * Parses `list_backups` output: one JSON object per line, blank lines ignored. The first bad line stops the parse
 * and is reported by number; a problem names fields, never their values.
 */
export function parseBackupList(text: string): BackupListParse {
  const backups: Backup[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return { ok: false, line: lineNo, problem: 'is not valid JSON' };
    }
    const parsed = BackupLine.safeParse(value);
    if (!parsed.success) {
      const problem = parsed.error.issues
        .map((issue) => {
          const field = issue.path.join('.');
          const missing =
            issue.path.length === 1 && typeof value === 'object' && value !== null && !(String(issue.path[0]) in value);
          return field === '' ? 'must be a JSON object' : `${field} ${missing ? 'is required' : issue.message}`;
        })
        .join('; ');
      return { ok: false, line: lineNo, problem };
    }
    if (seen.has(parsed.data.id)) return { ok: false, line: lineNo, problem: 'repeats an id listed before' };
    seen.add(parsed.data.id);
    backups.push({
      id: parsed.data.id,
      path: parsed.data.path,
      createdAt: parsed.data.created_at,
      sizeBytes: parsed.data.size_bytes,
      label: parsed.data.label ?? null,
      ...(typeof parsed.data.last_log_seq === 'number' ? { lastLogSeq: parsed.data.last_log_seq } : {}),
    });
  }
  return { ok: true, backups };
}
