/**
 * DecisionGraph's timestamp text for `epochMs` (a clock reading): RFC3339 UTC with up to microseconds,
 * trailing fraction zeros trimmed (`2026-03-07T12:00:01.5Z`, `2026-03-07T12:00:01Z`).
 */
export function rfc3339(epochMs: number): string {
  const micros = Math.round(epochMs * 1000);
  const base = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  const fraction = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return formatFraction(base, fraction);
}

function formatFraction(base: string, digits: string): string {
  const trimmed = digits.replace(/0+$/, '');
  return trimmed ? `${base}.${trimmed}Z` : `${base}Z`;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Normalises a caller's RFC3339 time to UTC text; `null` when the text is not RFC3339. */
export function normalizeRfc3339(text: string): string | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [, day, time, fraction = '', zone = 'Z'] = m;
  const parsed = Date.parse(`${day}T${time}${zone.toUpperCase()}`);
  if (Number.isNaN(parsed)) return null;
  const base = new Date(parsed).toISOString().slice(0, 19);
  return formatFraction(base, fraction.slice(0, 6).padEnd(6, '0'));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
