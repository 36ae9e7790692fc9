import type { ActiveRun } from '../../jobs/run-service-port.js';
import type { Diagnosis } from '../../runbook/diagnose.js';
import type { HealthVerdict } from '../../runbook/health-verdict.js';
import type { Json } from '../../runbook/index.js';
import { formatDuration, formatInstant, msBetween } from '../../runbook/time-format.js';
import type { JournalRun } from '../../store/index.js';
import { formatValue, oneLine, renderEvidenceList } from './render.js';
import type { Style } from './style.js';

// Text for `status`, `history` and `diagnose`. Pure: the same inputs give the same lines.

const INDENT = '    ';

/** The checklist verdict with its failing conditions and what it could not check. */
export function renderHealthVerdict(verdict: HealthVerdict, style: Style): string[] {
  const lines = [
    verdict.healthy
      ? `${style.green('✓')} ${style.bold('DecisionGraph is healthy')} by the recovery checklist`
      : `${style.red('✗')} ${style.bold('DecisionGraph is not healthy')}: ${verdict.failing.length} checklist condition(s) failing`,
  ];
  for (const f of verdict.failing) {
    lines.push(`${INDENT}${style.red('✗')} ${f.condition}: ${oneLine(f.detail, 300)}`);
    lines.push(
      `${INDENT}  ${style.dim(`measured ${formatValue(f.measured as Json, 120)}, expected ${formatValue(f.expected as Json, 120)}`)}`,
    );
  }
  if (verdict.unchecked.length > 0) {
    lines.push(`${INDENT}${style.dim(`not checked (no input): ${verdict.unchecked.join(', ')}`)}`);
  }
  return lines;
}

export function renderActiveRuns(runs: readonly ActiveRun[], style: Style): string[] {
  if (runs.length === 0) return ['No active runs.'];
  return [
    `${runs.length} active run(s):`,
    ...runs.map(
      (r) =>
        `${INDENT}${style.bold(r.runId)}  ${r.scenario}  tenant ${oneLine(r.tenantId, 60)}  ${r.status}${
          r.currentStep ? ` at ${r.currentStep}` : ''
        }`,
    ),
  ];
}

function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** A run as `history` lists it: the journal's row, completed from the run's own log where the row lags behind. */
export interface HistoryRow {
  readonly runId: string;
  readonly scenario: string | null;
  readonly tenantId: string | null;
  readonly startedBy: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** `recovered`, `failed`, `aborted`, `switched`; `null` while running. */
  readonly outcome: string | null;
}

export function historyRowOf(run: JournalRun): HistoryRow {
  return {
    runId: run.runId,
    scenario: run.scenario,
    tenantId: run.tenantId,
    startedBy: run.startedBy,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    outcome: run.outcome ?? (run.status === 'running' ? null : run.status),
  };
}

/** The last runs, newest first, with outcome and duration. */
export function renderHistory(runs: readonly HistoryRow[], style: Style): string[] {
  if (runs.length === 0) return ['No runs recorded yet.'];
  const outcome = (r: HistoryRow) => {
    const text = r.outcome ?? 'in progress';
    if (text === 'recovered') return style.green(text);
    return text === 'in progress' || text === 'recovered_with_exceptions' ? style.yellow(text) : style.red(text);
  };
  const rows = [
    ['RUN', 'SCENARIO', 'TENANT', 'STARTED', 'DURATION', 'STARTED BY', 'OUTCOME'],
    ...runs.map((r) => [
      r.runId,
      r.scenario ?? '?',
      oneLine(r.tenantId ?? '?', 40),
      formatInstant(r.startedAt),
      r.finishedAt === null ? 'running' : formatDuration(msBetween(r.startedAt, r.finishedAt)),
      oneLine(r.startedBy ?? '?', 40),
      outcome(r),
    ]),
  ];
  return [...table(rows), '', style.dim('Each run’s incident summary: dg-recovery summary <run>')];
}

/** The diagnosis: the verdict, the explanation, the rules that matched with their evidence, the others. */
export function renderDiagnosis(d: Diagnosis, style: Style): string[] {
  const head =
    d.verdict === 'healthy'
      ? `${style.green('✓')} ${style.bold('Healthy')}: no symptom of any runbook scenario`
      : d.verdict === 'scenario'
        ? `${style.yellow('!')} ${style.bold(`Fits scenario ${d.scenario}`)}`
        : `${style.yellow('?')} ${style.bold('Unclear')}: no scenario can be recommended`;
  const lines = [head, `${INDENT}${oneLine(d.explanation, 2000)}`, ''];
  const matched = d.rules.filter((r) => r.matched);
  const other = d.rules.filter((r) => !r.matched);
  lines.push(matched.length > 0 ? 'Rules that matched:' : 'No rule matched.');
  for (const r of matched) {
    lines.push(
      `${INDENT}${style.yellow('●')} ${r.id}${r.scenario ? ` → ${r.scenario}` : ''}: ${oneLine(r.because, 400)}`,
    );
    lines.push(...renderEvidenceList(r.evidence, style, `${INDENT}    `));
  }
  if (other.length > 0) {
    lines.push('', style.dim('Rules checked that did not match:'));
    for (const r of other) lines.push(style.dim(`${INDENT}○ ${r.id}: ${oneLine(r.because, 300)}`));
  }
  if (d.verdict === 'scenario' && d.scenario) {
    lines.push('', `To start it: dg-recovery recover ${d.scenario}`);
  }
  lines.push(style.dim('Advice from fixed rules over measured facts; a person decides whether to start a recovery.'));
  return lines;
}
