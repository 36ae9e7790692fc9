import type { Evidence, EvidenceSource } from '../events.js';
// The only import of the health verdict: the checklist gate is where it meets the engine.
import { type FailingCondition, type HealthVerdictInput, healthVerdict } from '../health-verdict.js';
import { isJsonObject, type Json, type JsonObject, toJson } from '../json.js';
import type { CallResult, ChecklistMeasurement, OpenRunBody, RuntimeBehaviour } from '../measurements.js';
import { callEvidence, evidence, httpSource, toCount } from './evidence.js';
import { judgeIntegrityClean } from './sql.js';
import type { JudgeContext, Verdict } from './types.js';

type GateCondition =
  | FailingCondition['condition']
  | 'trace_unreadable'
  | 'workflow_unreadable'
  | 'retry_storm'
  | 'event_log_damaged';

interface GateFailing {
  readonly condition: GateCondition;
  readonly detail: string;
  readonly measured: Json;
  readonly expected: Json;
}

/** Projections merely catching up are not a failure yet: the gate polls while a cursor keeps moving. */
const CATCHING_UP_CONDITIONS: ReadonlySet<string> = new Set(['pending_events', 'projection_stale']);

function outcome<T>(r: CallResult<T>) {
  return r.ok
    ? { ok: true as const, data: r.data, evidence: { status: r.evidence.status } }
    : { ok: false as const, error: { code: r.error.code, message: r.error.message, status: r.evidence.status } };
}

const OPEN_RUN_STATUSES: ReadonlySet<string> = new Set(['queued', 'running']);

/** The run's own replays whose rows are still queued or running. */
function ownOpenRuns(m: ChecklistMeasurement, ctx: JudgeContext): OpenRunBody[] {
  const own = new Set(ctx.ownReplayJobIds);
  const runs = new Map<string, OpenRunBody>();
  const tenantRuns = m.projectionHealth.ok ? m.projectionHealth.data.open_runs : [];
  for (const run of [...tenantRuns, ...(m.sql?.openRuns ?? [])]) {
    if (own.has(run.job_id) && OPEN_RUN_STATUSES.has(run.status)) runs.set(run.job_id, run);
  }
  return [...runs.values()];
}

/**
 * The run's own replays to wait for before judging: while DecisionGraph has live replay jobs, and once more when it
 * has none, since a job leaves memory a moment after its row completes and the reads run side by side. Own runs
 * still open on that second look are orphans, which the verdict reports.
 */
function ownRunsToAwait(m: ChecklistMeasurement, ctx: JudgeContext): OpenRunBody[] {
  if (!m.healthz.ok) return [];
  const open = ownOpenRuns(m, ctx);
  if (m.healthz.data.projector.active_replay_jobs > 0) return open;
  const seen = isJsonObject(ctx.progress) && Array.isArray(ctx.progress.ownIdle) ? ctx.progress.ownIdle : [];
  return open.some((r) => !seen.includes(r.job_id)) ? open : [];
}

function withoutAcknowledged(runs: readonly OpenRunBody[], acknowledged: ReadonlySet<string>): OpenRunBody[] {
  return runs.filter((r) => !acknowledged.has(r.job_id));
}

export function checklistInput(m: ChecklistMeasurement, ctx: JudgeContext): HealthVerdictInput {
  const acknowledged = new Set(ctx.acknowledgedRunIds);
  const ph = m.projectionHealth;
  const sql = m.sql !== undefined && m.sql.error === undefined ? m.sql : undefined;
  return {
    healthz: outcome(m.healthz),
    projectionHealth: ph.ok
      ? {
          ok: true,
          data: { ...ph.data, open_runs: withoutAcknowledged(ph.data.open_runs, acknowledged) },
          evidence: { status: ph.evidence.status },
        }
      : outcome(ph),
    ...(sql
      ? {
          sql: {
            ...(sql.cursorAhead !== undefined ? { cursorAhead: sql.cursorAhead } : {}),
            ...(sql.openRuns !== undefined ? { openRuns: withoutAcknowledged(sql.openRuns, acknowledged) } : {}),
          },
        }
      : {}),
    botJobIds: ctx.ownReplayJobIds,
  };
}

/** Checklist items (contract §6) that neither DecisionGraph's API nor its tables can show: left to people. */
export const MANUAL_CHECKS = [
  'the operator console shows the same tenant state',
  "DecisionGraph's logs carry request ids and show no retry storm",
] as const;

/** The same failure recorded this often since the run started means workers keep failing on it. */
const STORM_ROWS = 2;
/** Replay runs failed since the run started, from this many on, are failing repeatedly. */
const STORM_RUNS = 2;

/** A retry storm in what the tables show: a failure recorded again and again, or replays failing repeatedly. */
function retryStorm(r: RuntimeBehaviour): GateFailing | undefined {
  const repeated = r.repeatedFailures.filter((f) => f.rows >= STORM_ROWS);
  const runsFailing = r.failedRuns.length >= STORM_RUNS;
  if (repeated.length === 0 && !runsFailing) return undefined;
  const parts = [
    ...repeated.map((f) => `${f.projection} ${f.errorCode} on ${f.eventId ?? '?'} recorded ${f.rows} times`),
    ...(runsFailing
      ? [
          `${r.failedRuns.length} replay runs failed (${r.failedRuns.map((x) => `${x.jobId} ${x.errorCode ?? '?'}`).join(', ')})`,
        ]
      : []),
  ];
  return {
    condition: 'retry_storm',
    detail: `retry storm since ${r.since}: ${parts.join('; ')}`.slice(0, 2000),
    measured: { repeatedFailures: repeated.length, failedRuns: r.failedRuns.length },
    expected: { repeatedFailures: 0, failedRuns: `< ${STORM_RUNS}` },
  };
}

/** Other tenants whose projections are behind their tail or hold open failures: each needs its own run. */
function tenantsNeedingRepair(r: RuntimeBehaviour, tenantId: string | undefined) {
  return r.tenants.filter((t) => t.tenantId !== tenantId && (t.lowestCursor !== t.tail || t.openFailures > 0));
}

function cursorsOf(m: ChecklistMeasurement): Record<string, number> | undefined {
  if (!m.projectionHealth.ok) return undefined;
  return Object.fromEntries(m.projectionHealth.data.projections.map((p) => [p.projection_name, p.last_log_seq]));
}

function checklistEvidence(
  m: ChecklistMeasurement,
  ctx: JudgeContext,
  failing: readonly GateFailing[],
  unchecked: readonly string[],
): Evidence[] {
  const failed = new Map(failing.map((f) => [f.condition, f]));
  const items: Evidence[] = [callEvidence('checklist: GET /api/healthz', m.healthz, 200)];
  const hzSource: EvidenceSource = httpSource(m.healthz.evidence);
  const item = (
    condition: GateCondition,
    label: string,
    passing: unknown,
    expected: unknown,
    source: EvidenceSource,
  ) => {
    const f = failed.get(condition);
    if (unchecked.includes(condition)) {
      items.push(
        evidence(`checklist: ${label}`, 'not checked', source, { expected, detail: 'no input for this check' }),
      );
    } else if (f) {
      items.push(
        evidence(`checklist: ${label}`, f.measured, source, { expected: f.expected, ok: false, detail: f.detail }),
      );
    } else {
      items.push(evidence(`checklist: ${label}`, passing, source, { expected, ok: true }));
    }
  };
  item('projection_health_unavailable', 'healthz projection_health', 'available', 'available', hzSource);
  item('repo_not_started', 'healthz repo_started?', true, true, hzSource);
  const ph = m.projectionHealth;
  const phSource = httpSource(ph.evidence);
  item('projection_health_error', 'GET /api/v1/projections/health', ph.evidence.status, 200, phSource);
  if (ph.ok) {
    const pending = Object.fromEntries(ph.data.projections.map((p) => [p.projection_name, p.pending_events]));
    const failures = Object.fromEntries(ph.data.projections.map((p) => [p.projection_name, p.open_failures]));
    item('pending_events', 'pending_events', pending, 0, phSource);
    item(
      'projection_stale',
      'projections at the event tail',
      ph.data.event_log_last_seq,
      'every cursor at the tail',
      phSource,
    );
    item('open_failures', 'open projection failures', failures, 0, phSource);
  }
  item('open_runs', 'open replay runs not started by this run', [], [], phSource);
  item('orphaned_runs', 'runs marked running with no live replay job', [], [], phSource);
  const sqlSource: EvidenceSource = { kind: 'sql' };
  const cursorAhead = m.sql?.cursorAhead?.length ?? 0;
  item('cursor_ahead', 'projection cursors ahead of the event tail', cursorAhead, 0, sqlSource);
  const runtime = m.sql?.runtime;
  if (runtime !== undefined) {
    item('retry_storm', `failures recorded again, replays failed (since ${runtime.since})`, 0, 0, sqlSource);
    const others = tenantsNeedingRepair(runtime, m.projectionHealth.ok ? m.projectionHealth.data.tenant_id : undefined);
    items.push(
      evidence(
        'checklist: other tenants (projections behind or failing)',
        others.map((t) => `${t.tenantId}: cursor ${t.lowestCursor}, tail ${t.tail}, ${t.openFailures} open failures`),
        sqlSource,
        {
          expected: [],
          ok: others.length === 0,
          ...(others.length > 0
            ? { detail: 'each tenant is repaired by its own run (projections tenant=<id>); not held against this one' }
            : {}),
        },
      ),
    );
  }
  items.push(
    evidence(
      'checklist: left to people',
      [...MANUAL_CHECKS],
      { kind: 'engine' },
      {
        detail: "neither DecisionGraph's API nor its tables show these",
      },
    ),
  );
  items.push(
    callEvidence(
      'checklist: known trace reads',
      m.trace,
      200,
      m.trace.ok ? undefined : (failed.get('trace_unreadable')?.detail ?? undefined),
    ),
  );
  if (m.workflow !== undefined) items.push(callEvidence('checklist: known workflow reads', m.workflow, 200));
  else if (ctx.workflowExpected) {
    items.push(evidence('checklist: known workflow reads', 'not measured', phSource, { expected: 200, ok: false }));
  }
  if (ctx.acknowledgedRunIds.length > 0) {
    items.push(
      evidence('orphaned runs a person decided about', [...ctx.acknowledgedRunIds], phSource, {
        detail:
          'left in dg_projection_runs by a crash; DecisionGraph offers no way to close them, so they are listed, not held against the gate',
      }),
    );
  }
  return items;
}

/**
 * The recovery checklist (contract §4.1, §6): the health verdict plus a readable known trace and, when the run has
 * one, a readable known workflow. Passes only when nothing fails. The run's own replays still running, and
 * projections that are behind but whose cursors keep moving, leave the gate waiting (it polls until its
 * deadline); any other failing condition fails it.
 */
export function judgeChecklist(m: ChecklistMeasurement, ctx: JudgeContext): Verdict {
  if (m.sql?.error !== undefined) {
    return {
      result: 'failed',
      error: { code: m.sql.error.code, message: `the checklist's SQL checks could not run: ${m.sql.error.message}` },
      transient: m.sql.error.transient,
      evidence: [
        evidence('checklist: SQL checks', 'not run', { kind: 'sql' }, { ok: false, detail: m.sql.error.message }),
      ],
    };
  }
  const verdict = healthVerdict(checklistInput(m, ctx));
  const failing: GateFailing[] = verdict.failing.map((f) => ({
    condition: f.condition,
    detail: f.detail,
    measured: toJson(f.measured),
    expected: toJson(f.expected),
  }));
  if (!m.trace.ok) {
    failing.push({
      condition: 'trace_unreadable',
      detail: `the known trace does not read: ${m.trace.error.code} ${m.trace.error.message}`.slice(0, 2000),
      measured: { status: m.trace.evidence.status, code: m.trace.error.code },
      expected: { status: 200 },
    });
  }
  const scan = m.integrity !== undefined ? judgeIntegrityClean(m.integrity, ctx) : undefined;
  if (scan?.result === 'failed' && scan.error.code !== 'event_log_damaged') {
    // The scan did not complete: the log cannot be called clean, so the checklist measured nothing yet.
    return { ...scan, error: { ...scan.error, message: `the checklist's integrity scan: ${scan.error.message}` } };
  }
  if (scan?.result === 'failed') {
    failing.push({
      condition: 'event_log_damaged',
      detail: `after the restore, ${scan.error.message}`,
      measured: scan.outputs?.damagedRows ?? null,
      expected: 0,
    });
  }
  const storm = m.sql?.runtime !== undefined ? retryStorm(m.sql.runtime) : undefined;
  if (storm !== undefined) failing.push(storm);
  if (ctx.workflowExpected && (m.workflow === undefined || !m.workflow.ok)) {
    failing.push({
      condition: 'workflow_unreadable',
      detail:
        m.workflow === undefined
          ? 'the known workflow was not read'
          : `the known workflow does not read: ${m.workflow.ok ? '' : m.workflow.error.message}`.slice(0, 2000),
      measured: m.workflow === undefined ? null : { status: m.workflow.evidence.status },
      expected: { status: 200 },
    });
  }
  const items = [...checklistEvidence(m, ctx, failing, verdict.unchecked), ...(scan?.evidence ?? [])];
  const outputs: JsonObject = {
    healthy: failing.length === 0,
    failing: failing.map((f) => ({ ...f })),
    unchecked: [...verdict.unchecked],
    acknowledgedRuns: [...ctx.acknowledgedRunIds],
    manualChecks: [...MANUAL_CHECKS],
    ...(m.sql?.runtime !== undefined
      ? {
          otherTenants: tenantsNeedingRepair(
            m.sql.runtime,
            m.projectionHealth.ok ? m.projectionHealth.data.tenant_id : undefined,
          ).map((t) => t.tenantId),
        }
      : {}),
  };
  const cursors = cursorsOf(m);
  const ownLive = ownRunsToAwait(m, ctx);
  if (ownLive.length > 0) {
    const ids = ownLive.map((r) => r.job_id);
    const idle = m.healthz.ok && m.healthz.data.projector.active_replay_jobs === 0;
    return {
      result: 'waiting',
      outputs: { ...outputs, waitingForOwnReplays: ids },
      progress: { ...(cursors !== undefined ? { cursors } : {}), ...(idle ? { ownIdle: ids } : {}) },
      // What the step waits for comes first: a thread message that runs out of room cuts from the end.
      evidence: [
        evidence(
          "checklist: this run's own replays",
          ownLive.map((r) => `${r.job_id} ${r.mode} ${r.projection_name} ${r.status}`),
          { kind: 'engine' },
          {
            expected: 'finished',
            detail: 'started by this run and still running: the checklist is judged once they end; checking again',
          },
        ),
        ...items,
      ],
    };
  }
  if (failing.length === 0) return { result: 'passed', outputs, evidence: items };

  // A 409 on the trace is the same lag the pending events show; it is not a separate failure while catching up.
  const lagOnly = failing.every(
    (f) =>
      CATCHING_UP_CONDITIONS.has(f.condition) ||
      (f.condition === 'trace_unreadable' && !m.trace.ok && m.trace.evidence.status === 409),
  );
  if (lagOnly && cursors !== undefined) {
    const previous =
      isJsonObject(ctx.progress) && isJsonObject(ctx.progress.cursors) ? ctx.progress.cursors : undefined;
    const moved =
      previous === undefined ||
      Object.entries(cursors).some(([name, seq]) => seq > toCount(previous[name] as number | undefined));
    if (moved) {
      return {
        result: 'waiting',
        outputs: { ...outputs, catchingUp: true },
        progress: { cursors },
        evidence: [
          ...items,
          evidence(
            'checklist: projections catching up',
            'behind, cursors moving',
            { kind: 'engine' },
            {
              expected: 'pending_events 0',
              detail: 'pending events but no new failures: the checklist allows catching up; checking again',
            },
          ),
        ],
      };
    }
  }
  return {
    result: 'failed',
    error: {
      code: 'checklist_failed',
      message: `recovery checklist not met: ${failing.map((f) => f.detail).join('; ')}`.slice(0, 2000),
    },
    transient: false,
    outputs,
    evidence: items,
  };
}
