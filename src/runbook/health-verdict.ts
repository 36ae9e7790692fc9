// The "healthy again" predicate of DecisionGraph's recovery checklist, from facts the executors gathered. Pure (no
// I/O, no clock); input shapes are structural, so executors' results fit without this module depending on them.

import type { CursorAheadRow } from './measurements.js';

export type HealthCondition =
  | 'healthz_unreachable'
  | 'healthz_status'
  | 'projection_health_unavailable'
  | 'repo_not_started'
  | 'projection_stale'
  | 'pending_events'
  | 'open_failures'
  | 'open_runs'
  | 'orphaned_runs'
  | 'cursor_ahead'
  | 'projection_health_error';

export interface FailingCondition {
  readonly condition: HealthCondition;
  /** One sentence naming the projection(s), job(s) and values. */
  readonly detail: string;
  readonly measured: unknown;
  readonly expected: unknown;
}

export interface HealthVerdict {
  readonly healthy: boolean;
  readonly failing: readonly FailingCondition[];
  /**
   * Conditions that could not be evaluated for lack of input (no SQL facts, healthz down). `healthy` is true only
   * when nothing failed; read this list to know what "healthy" did not cover.
   */
  readonly unchecked: readonly HealthCondition[];
}

export interface ProjectionStatusFacts {
  readonly projection_name: string;
  readonly last_log_seq: number;
  readonly pending_events: number;
  readonly is_stale: boolean;
  readonly open_failures: number;
}

export interface RunFacts {
  readonly job_id: string;
  readonly projection_name: string;
  readonly mode: string;
  readonly status: string;
  readonly tenant_id?: string;
}

export interface ProjectionHealthFacts {
  readonly tenant_id: string;
  readonly event_log_last_seq: number;
  readonly projections: readonly ProjectionStatusFacts[];
  readonly open_runs: readonly RunFacts[];
}

export interface HealthzFacts {
  readonly projection_health: ProjectionHealthFacts | { readonly status: 'unavailable'; readonly reason: string };
  readonly projector: { readonly active_replay_jobs: number };
  readonly store: { readonly 'repo_started?': boolean };
}

/** A call outcome: the client's `DgCallResult` fits this shape. */
export type CallOutcome<T> =
  | { readonly ok: true; readonly data: T; readonly evidence?: { readonly status: number | null } }
  | {
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string; readonly status?: number | null };
    };

export interface HealthVerdictInput {
  readonly healthz: CallOutcome<HealthzFacts>;
  /** The authenticated projection health of the tenant under recovery. */
  readonly projectionHealth: CallOutcome<ProjectionHealthFacts>;
  /** Facts from DecisionGraph's database; conditions that need them are `unchecked` when absent. */
  readonly sql?: {
    /** Rows of the cursor-ahead SQL check (contract §5.4). */
    readonly cursorAhead?: readonly CursorAheadRow[];
    /** `dg_projection_runs` rows with status queued or running (all tenants). */
    readonly openRuns?: readonly RunFacts[];
  };
  /** Replay job ids the bot itself started: such runs are expected in `open_runs`. */
  readonly botJobIds?: Iterable<string>;
}

/** Codes of call failures where nothing answered (the client's transport failures). */
const NO_ANSWER_CODES = new Set(['DG_ERR_API_UNREACHABLE', 'DG_ERR_API_TIMEOUT', 'DG_ERR_API_CONNECTION_RESET']);

/**
 * Healthy = healthz 200 with the repo started and projection health available, the tenant's projection health
 * readable with every projection current (`pending_events` 0, not stale, no open failures), no open runs other
 * than the bot's own, no run `running` while DecisionGraph has no live replay job, and no cursor ahead of the tail.
 */
export function healthVerdict(input: HealthVerdictInput): HealthVerdict {
  const failing: FailingCondition[] = [];
  const unchecked: HealthCondition[] = [];
  const botJobs = new Set(input.botJobIds ?? []);

  let activeReplayJobs: number | null = null;
  const hz = input.healthz;
  if (!hz.ok) {
    if (NO_ANSWER_CODES.has(hz.error.code)) {
      failing.push({
        condition: 'healthz_unreachable',
        detail: `healthz did not answer: ${hz.error.message}`,
        measured: { code: hz.error.code },
        expected: { status: 200 },
      });
    } else {
      const status = hz.error.status ?? null;
      failing.push({
        condition: 'healthz_status',
        detail: `healthz answered ${status ?? 'without a status'} (${hz.error.code}), expected 200 with a valid body`,
        measured: { status, code: hz.error.code },
        expected: { status: 200 },
      });
    }
    unchecked.push('projection_health_unavailable', 'repo_not_started', 'orphaned_runs');
  } else {
    const status = hz.evidence?.status ?? 200;
    if (status !== 200) {
      failing.push({
        condition: 'healthz_status',
        detail: `healthz answered ${status}, expected 200`,
        measured: { status },
        expected: { status: 200 },
      });
    }
    const ph = hz.data.projection_health;
    if ('status' in ph && ph.status === 'unavailable') {
      failing.push({
        condition: 'projection_health_unavailable',
        detail: `healthz reports projection health unavailable: ${ph.reason}`,
        measured: { status: ph.status, reason: ph.reason },
        expected: 'projection health data',
      });
    }
    const repoStarted = hz.data.store['repo_started?'];
    if (repoStarted !== true) {
      failing.push({
        condition: 'repo_not_started',
        detail: `healthz store repo_started? is ${String(repoStarted)}`,
        measured: repoStarted,
        expected: true,
      });
    }
    activeReplayJobs = hz.data.projector.active_replay_jobs;
  }

  const phr = input.projectionHealth;
  let tenantRuns: readonly RunFacts[] = [];
  if (!phr.ok) {
    failing.push({
      condition: 'projection_health_error',
      detail: `projection health could not be read: ${phr.error.message}`,
      measured: { code: phr.error.code, status: phr.error.status ?? null },
      expected: { status: 200 },
    });
    unchecked.push('projection_stale', 'pending_events', 'open_failures', 'open_runs');
  } else {
    const data = phr.data;
    tenantRuns = data.open_runs;
    checkProjections(data, failing);
    const foreign = data.open_runs.filter((r) => !botJobs.has(r.job_id));
    if (foreign.length > 0) {
      failing.push({
        condition: 'open_runs',
        detail: `tenant ${data.tenant_id} has ${foreign.length} open run(s) the bot did not start: ${foreign
          .map(describeRun)
          .join(', ')}`,
        measured: foreign.map(runFacts),
        expected: [],
      });
    }
  }

  if (activeReplayJobs !== null) {
    const running = new Map<string, RunFacts>();
    for (const run of [...(input.sql?.openRuns ?? []), ...tenantRuns]) {
      if (run.status === 'running' && !running.has(run.job_id)) running.set(run.job_id, run);
    }
    if (!phr.ok && input.sql?.openRuns === undefined) unchecked.push('orphaned_runs');
    else if (running.size > 0 && activeReplayJobs === 0) {
      const runs = [...running.values()];
      failing.push({
        condition: 'orphaned_runs',
        detail: `${runs.length} run(s) marked running while DecisionGraph has no live replay job: ${runs
          .map(describeRun)
          .join(', ')}`,
        measured: { running: runs.map(runFacts), active_replay_jobs: activeReplayJobs },
        expected: 'no run marked running while active_replay_jobs is 0',
      });
    }
  }

  if (input.sql?.cursorAhead === undefined) {
    unchecked.push('cursor_ahead');
  } else if (input.sql.cursorAhead.length > 0) {
    const rows = input.sql.cursorAhead;
    failing.push({
      condition: 'cursor_ahead',
      detail: `projection cursor ahead of the event log tail: ${rows
        .map((r) => `${r.tenant_id}/${r.projection_name} at ${r.last_log_seq} > tail ${r.tail}`)
        .join(', ')}`,
      measured: rows.map((r) => ({
        tenant_id: r.tenant_id,
        projection_name: r.projection_name,
        last_log_seq: Number(r.last_log_seq),
        tail: Number(r.tail),
      })),
      expected: 'every cursor <= its tenant tail',
    });
  }

  return Object.freeze({
    healthy: failing.length === 0,
    failing: Object.freeze(failing),
    unchecked: Object.freeze([...new Set(unchecked)]),
  });
}

function checkProjections(data: ProjectionHealthFacts, failing: FailingCondition[]): void {
  const tail = data.event_log_last_seq;
  const stale = data.projections.filter((p) => p.is_stale);
  if (stale.length > 0) {
    failing.push({
      condition: 'projection_stale',
      detail: `${stale
        .map((p) => `${p.projection_name} at log_seq ${p.last_log_seq}`)
        .join(', ')} behind tenant ${data.tenant_id}'s tail ${tail}`,
      measured: Object.fromEntries(stale.map((p) => [p.projection_name, p.last_log_seq])),
      expected: { last_log_seq: tail },
    });
  }
  const pending = data.projections.filter((p) => p.pending_events > 0);
  if (pending.length > 0) {
    failing.push({
      condition: 'pending_events',
      detail: `pending events (log_seq distance): ${pending.map((p) => `${p.projection_name} ${p.pending_events}`).join(', ')}`,
      measured: Object.fromEntries(pending.map((p) => [p.projection_name, p.pending_events])),
      expected: 0,
    });
  }
  const failures = data.projections.filter((p) => p.open_failures > 0);
  if (failures.length > 0) {
    failing.push({
      condition: 'open_failures',
      detail: `open projection failures: ${failures.map((p) => `${p.projection_name} ${p.open_failures}`).join(', ')}`,
      measured: Object.fromEntries(failures.map((p) => [p.projection_name, p.open_failures])),
      expected: 0,
    });
  }
}

function describeRun(run: RunFacts): string {
  const tenant = run.tenant_id ? `${run.tenant_id}/` : '';
  return `${run.job_id} (${tenant}${run.projection_name} ${run.mode} ${run.status})`;
}

function runFacts(run: RunFacts): RunFacts {
  const out: RunFacts = {
    job_id: run.job_id,
    projection_name: run.projection_name,
    mode: run.mode,
    status: run.status,
  };
  return run.tenant_id === undefined ? out : { ...out, tenant_id: run.tenant_id };
}
