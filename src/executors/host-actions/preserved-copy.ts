import { artifactRef } from './backup-list.js';
import type { PreservedCopy } from './types.js';

function refOf(value: unknown): string | undefined {
  const parsed = artifactRef.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function copyIn(value: unknown): PreservedCopy | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const id = refOf(o.id);
  const path = refOf(o.path);
  if (id !== undefined || path !== undefined) return { ...(id ? { id } : {}), ...(path ? { path } : {}) };
  return 'backup' in o ? copyIn(o.backup) : undefined;
}

/**
 * The copy `preserve_database` reports: the last line of its output (a command's stdout, a webhook's body) that
 * is a JSON object with `id` and/or `path`, at the top or under `backup`. `undefined` when no line says: the copy
 * is then told by its creation time, a weaker rule.
 */
export function parsePreservedCopy(text: string): PreservedCopy | undefined {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (!line.startsWith('{')) continue;
    try {
      const copy = copyIn(JSON.parse(line));
      if (copy !== undefined) return copy;
    } catch {
      // Not JSON: an ordinary log line.
    }
  }
  return undefined;
}
