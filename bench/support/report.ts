/** The names `npm run bench -- <name>...` accepts, in the order a full run takes them. */
export const BENCH_NAMES = ['integrity', 'engine', 'restart', 'concurrent', 'ack', 'chart', 'mttr', 'help'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/**
 * `N/A`: the figure could not be measured (a dependency is missing); the row says why. `CRASH`: the benchmark
 * failed before it had figures.
 */
export type Verdict = 'PASS' | 'MISS' | 'N/A' | 'CRASH';

/** One line of the final summary: a measured figure next to its baseline and target. */
export interface SummaryRow {
  readonly bench: BenchName;
  readonly metric: string;
  readonly measured: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  readonly verdict: Verdict;
}

/** What every benchmark returns: its summary rows and its own typed figures. */
export interface BenchReport<T> {
  readonly name: BenchName;
  readonly rows: SummaryRow[];
  /** Null when the benchmark could not run. */
  readonly detail: T | null;
  /** Set when a dependency is missing: why nothing was measured. */
  readonly notAvailable?: string;
}

export function notAvailable(name: BenchName, metric: string, target: string, why: string): BenchReport<never> {
  return {
    name,
    rows: [
      { bench: name, metric, measured: `not available: ${why}`, baseline: '-', ratio: '-', target, verdict: 'N/A' },
    ],
    detail: null,
    notAvailable: why,
  };
}

export function verdict(pass: boolean): Verdict {
  return pass ? 'PASS' : 'MISS';
}

/** Rounds to `digits` decimals (figures are read by people, not compared bit for bit). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${round(value, value >= 10 ? 1 : 3)} ms`;
}

export function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${round(ratio, 2)}x` : '-';
}

export function mb(bytes: number): number {
  return round(bytes / (1024 * 1024), 1);
}

/**
 * A text table. Columns are right-aligned (figures) except those listed in `left` (words).
 * @param left - indexes of left-aligned columns; @defaultValue `[0]`
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  left: readonly number[] = [0],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (left.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
