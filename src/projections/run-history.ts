import type { RunService } from '../jobs/run-service-port.js';
import type { Logger } from '../logger.js';
import type { Scenario } from '../runbook/index.js';
import type { Journal } from '../store/index.js';
import type { RunGist } from './summary/index.js';
import { incidentGist } from './thread/summary-message.js';

/** One finished or running run, as `/dg history` lists it. */
export interface HistoryEntry {
  readonly runId: string;
  readonly scenario: string | null;
  readonly tenantId: string | null;
  readonly status: string;
  readonly outcome: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** The gist of the run's incident summary. @defaultValue the run is listed without one */
  readonly gist?: RunGist;
}

export interface RunHistoryOptions {
  readonly journal: Pick<Journal, 'listRuns'>;
  readonly service: Pick<RunService, 'get'>;
  /** The scenario a run follows; throws for one this version does not know. */
  readonly scenarioFor: (name: string) => Scenario;
  readonly logger: Logger;
  /** Runs whose log is read at once. @defaultValue 4 */
  readonly concurrency?: number;
}

/**
 * `/dg history`: the newest runs from the journal, each with the gist of its incident summary, made from the run's
 * log (the live one, or the journal's). The journal's row is written behind the log, so a run the row still shows
 * as running takes its outcome and end from the log. A run whose log cannot be read is listed without a gist.
 */
export function createRunHistory(options: RunHistoryOptions): (limit: number) => Promise<HistoryEntry[]> {
  const concurrency = options.concurrency ?? 4;
  const entryOf = async (row: Awaited<ReturnType<Journal['listRuns']>>[number]): Promise<HistoryEntry> => {
    const entry: HistoryEntry = {
      runId: row.runId,
      scenario: row.scenario,
      tenantId: row.tenantId,
      status: row.status,
      outcome: row.outcome,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
    };
    try {
      const run = await options.service.get(row.runId);
      if (!run) return entry;
      const outcome = run.state.outcome;
      return {
        ...entry,
        outcome: outcome?.outcome ?? entry.outcome,
        finishedAt: outcome?.at ?? entry.finishedAt,
        gist: incidentGist(run.events, options.scenarioFor(run.state.scenario)),
      };
    } catch (err) {
      options.logger.warn({ err, runId: row.runId }, 'no summary gist for /dg history');
      return entry;
    }
  };
  return async (limit) => {
    const rows = await options.journal.listRuns({ limit });
    const entries: HistoryEntry[] = new Array(rows.length);
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const i = next++;
        entries[i] = await entryOf(rows[i] as (typeof rows)[number]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
    return entries;
  };
}
