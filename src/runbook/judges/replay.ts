import type { Evidence } from '../events.js';
import type { JsonObject } from '../json.js';
import type {
  OpenRunBody,
  ReplayInventoryMeasurement,
  ReplayLookup,
  ReplayPollMeasurement,
  ReplayRunBody,
  ReplayStartMeasurement,
} from '../measurements.js';
import { callEvidence, ENGINE_SOURCE, evidence, httpSource } from './evidence.js';
import { isCurrent } from './projections.js';
import type { Judge, Verdict } from './types.js';

const OPEN_STATUSES = new Set(['queued', 'running']);

function runEvidence(label: string, run: ReplayRunBody, source: Evidence['source']): Evidence {
  return evidence(
    label,
    { job_id: run.job_id, status: run.status, mode: run.mode, projection: run.projection_name },
    source,
    { detail: `processed ${run.processed_events} events, at log_seq ${run.last_log_seq}` },
  );
}

function newestOpen(runs: readonly OpenRunBody[], projection: string, mode: string): OpenRunBody | undefined {
  return runs
    .filter((r) => r.projection_name === projection && r.mode === mode && OPEN_STATUSES.has(r.status))
    .sort((a, b) => ((a.requested_at ?? '') < (b.requested_at ?? '') ? 1 : -1))[0];
}

/**
 * `POST /api/v1/admin/replays`: 202 passes with the job id. A 409 "already running" attaches to the run holding
 * the scope (same projection and mode) rather than failing; a 403 for a rebuild in a deployment that forbids
 * them fails with `rebuild_forbidden`, which scenarios route to a catch_up offer.
 */
export const judgeReplayAdmitted: Judge<ReplayStartMeasurement> = (m): Verdict => {
  const label = 'POST /api/v1/admin/replays';
  const r = m.result;
  const request = `${m.request.mode} of ${m.request.projection}`;
  if (r.ok) {
    const run = r.data.run;
    return {
      result: 'passed',
      outputs: { jobId: run.job_id, mode: run.mode, projection: run.projection_name, attached: false },
      evidence: [callEvidence(label, r, 202), runEvidence('replay run admitted', run, httpSource(r.evidence))],
    };
  }
  const e = r.error;
  const status = r.evidence.status;
  const text = `${e.dgMessage ?? ''} ${e.message}`;
  if (status === 409 && /already running/i.test(text)) {
    const holder = newestOpen(m.openRuns ?? [], m.request.projection, m.request.mode);
    if (holder !== undefined) {
      return {
        result: 'passed',
        outputs: { jobId: holder.job_id, mode: holder.mode, projection: holder.projection_name, attached: true },
        evidence: [callEvidence(label, r, 202, `409: a ${request} is already running; following job ${holder.job_id}`)],
      };
    }
    const busy = (m.openRuns ?? []).some(
      (x) => x.projection_name === m.request.projection && OPEN_STATUSES.has(x.status),
    );
    return {
      result: 'failed',
      error: {
        code: busy ? 'replay_scope_busy' : 'replay_already_running',
        message: busy
          ? `another kind of replay holds ${m.request.projection}; wait for it to end, then retry`
          : `DecisionGraph says a replay of ${m.request.projection} is running but lists none; retrying`,
      },
      transient: !busy,
      evidence: [callEvidence(label, r, 202)],
    };
  }
  if (m.lookup !== undefined)
    return judgeLostAdmission(m.lookup, request, callEvidence(label, r, 202, 'sent; no answer'));
  if (status === 403 && m.request.mode === 'rebuild' && /rebuild/i.test(text) && /disabled/i.test(text)) {
    return {
      result: 'failed',
      error: {
        code: 'rebuild_forbidden',
        message:
          'this deployment forbids projection rebuilds (admin_controls allow_rebuild is off, the default in prod); ' +
          'a catch_up replay is allowed',
      },
      transient: false,
      evidence: [callEvidence(label, r, 202, e.dgMessage ?? e.message)],
    };
  }
  return {
    result: 'failed',
    error: { code: e.code, message: `the ${request} was not admitted: ${e.message}` },
    transient: e.transient,
    evidence: [callEvidence(label, r, 202)],
  };
};

/**
 * A replay request sent whose answer was lost: the run it created, found by the request key in its metadata, is
 * followed as if the 202 had arrived. Found nowhere, its outcome stays unknown: the engine sends it again under the
 * same key, or asks people for a rebuild.
 */
function judgeLostAdmission(lookup: ReplayLookup, request: string, sent: Evidence): Verdict {
  const run = lookup.found;
  if (run !== null) {
    return {
      result: 'passed',
      outputs: { jobId: run.job_id, mode: run.mode, projection: run.projection_name, attached: true },
      evidence: [
        sent,
        evidence('run created by this request', run.job_id, ENGINE_SOURCE, {
          detail: `sent; no answer; found by its request key ${lookup.requestKey} in the run's metadata, now ${run.status}`,
        }),
      ],
    };
  }
  const looked =
    lookup.checked.length > 0 ? `none of the open runs read back (${lookup.checked.join(', ')})` : 'no open run';
  const message =
    `the ${request} was sent; no answer came back, and ${looked} carries its request key` +
    (lookup.error ? ` (the search stopped: ${lookup.error})` : '');
  return {
    result: 'failed',
    error: { code: 'replay_answer_lost', message: message.slice(0, 2000) },
    transient: false,
    outcomeUnknown: true,
    evidence: [
      sent,
      evidence('run created by this request', 'not found', ENGINE_SOURCE, { ok: false, detail: message }),
    ],
  };
}

/**
 * `GET /api/v1/admin/replays/:job_id` plus projection health. Passes only when the run is `completed` and every
 * projection has `pending_events = 0`: a failed rebuild leaves 0 open failures (it deleted them), so the run row
 * is what tells (contract §4.3).
 */
export const judgeReplayFinished: Judge<ReplayPollMeasurement> = (m): Verdict => {
  const label = 'GET /api/v1/admin/replays/:job_id';
  const r = m.run;
  if (!r.ok) {
    const notFound = r.evidence.status === 404;
    return {
      result: 'failed',
      error: {
        code: notFound ? 'replay_job_missing' : r.error.code,
        message: notFound ? `the replay job is unknown to DecisionGraph: ${r.error.message}` : r.error.message,
      },
      transient: notFound ? false : r.error.transient,
      evidence: [callEvidence(label, r, 200)],
    };
  }
  const run = r.data.run;
  const source = httpSource(r.evidence);
  const items: Evidence[] = [callEvidence(label, r, 200), runEvidence('replay run', run, source)];
  const outputs: JsonObject = {
    jobId: run.job_id,
    status: run.status,
    processedEvents: run.processed_events,
    lastLogSeq: run.last_log_seq,
  };
  if (OPEN_STATUSES.has(run.status)) return { result: 'waiting', outputs, evidence: items };
  if (run.status === 'failed' || run.status === 'cancelled') {
    return {
      result: 'failed',
      error: {
        code: run.status === 'failed' ? 'replay_failed' : 'replay_cancelled',
        message:
          run.status === 'failed'
            ? `replay ${run.job_id} failed: ${run.error_code ?? 'unknown'}: ${run.error_message ?? ''}`.trim()
            : `replay ${run.job_id} was cancelled`,
      },
      transient: false,
      outputs,
      evidence: [
        ...items,
        evidence('replay run status', run.status, source, {
          expected: 'completed',
          ok: false,
          detail: 'judged by the run row: a failed rebuild shows 0 open failures because it deleted them',
        }),
      ],
    };
  }
  const h = m.health;
  if (h === undefined || !h.ok) {
    return {
      result: 'waiting',
      outputs,
      evidence: [...items, ...(h ? [callEvidence('GET /api/v1/projections/health', h, 200)] : [])],
    };
  }
  const pendingTotal = h.data.projections.reduce((n, p) => n + p.pending_events, 0);
  const current = isCurrent(h.data);
  items.push(
    evidence('pending_events after the replay', pendingTotal, httpSource(h.evidence), {
      expected: 0,
      ok: current,
      ...(current ? {} : { detail: 'the run completed; events appended since then are still being projected' }),
    }),
  );
  return current
    ? { result: 'passed', outputs: { ...outputs, pendingTotal }, evidence: items }
    : { result: 'waiting', outputs: { ...outputs, pendingTotal }, evidence: items };
};

/** Newest first, as the coordinator admits them; the job id breaks a tie. */
function newestFirst(a: OpenRunBody, b: OpenRunBody): number {
  const at = (a.requested_at ?? '').localeCompare(b.requested_at ?? '');
  return at !== 0 ? -at : -a.job_id.localeCompare(b.job_id);
}

interface Attribution {
  /** The tenant's open rows that no live job can own. */
  readonly orphans: readonly OpenRunBody[];
  /** How the live jobs were matched to rows, for the evidence. */
  readonly detail: string;
}

/**
 * Which of the tenant's open rows are orphans: of the open rows of all tenants, the newest `active_replay_jobs` are
 * live and the rest orphans (docs/internals.md#replay-judges).
 */
function attributeOrphans(
  tenantOpen: readonly OpenRunBody[],
  tenantId: string,
  active: number,
  sql: ReplayInventoryMeasurement['sql'],
): Attribution {
  if (sql === undefined || 'error' in sql) {
    return {
      orphans: active === 0 ? tenantOpen : [],
      detail:
        active === 0
          ? 'no replay job is live on the node'
          : `the open rows of all tenants could not be read by SQL${sql ? ` (${sql.error.code})` : ''}, so the ` +
            `${active} live job(s) cannot be attributed and no row is called an orphan`,
    };
  }
  if (active === 0) return { orphans: tenantOpen, detail: 'no replay job is live on the node' };
  const all = sql.openRuns.filter((r) => OPEN_STATUSES.has(r.status)).sort(newestFirst);
  const live = new Set(all.slice(0, active).map((r) => r.job_id));
  const ids = new Set(tenantOpen.map((r) => r.job_id));
  const orphans = all.filter((r) => (r.tenant_id ?? tenantId) === tenantId && ids.has(r.job_id) && !live.has(r.job_id));
  const others = all.filter((r) => live.has(r.job_id) && (r.tenant_id ?? tenantId) !== tenantId).length;
  return {
    orphans,
    detail:
      `${active} live job(s) on the node, ${all.length} open row(s) in all tenants: the newest ${active} are the ` +
      `live ones (${others} of them in other tenants), since a job admitted after a restart is newer than every row ` +
      'the restart cut off',
  };
}

/**
 * Orphaned replay runs of the run's tenant: rows `queued`/`running` that no live replay job owns. They never
 * finish, cannot be cancelled (404) and do not block new runs (contract §4.4). Live jobs are counted node-wide
 * (healthz `active_replay_jobs`), so they are matched to rows of every tenant (see {@link attributeOrphans}): a
 * replay live in another tenant does not hide this tenant's orphans.
 */
export const judgeReplayOrphans: Judge<ReplayInventoryMeasurement> = (m, ctx): Verdict => {
  if (!m.healthz.ok) {
    return {
      result: 'failed',
      error: { code: m.healthz.error.code, message: `healthz could not be read: ${m.healthz.error.message}` },
      transient: m.healthz.error.transient,
      evidence: [callEvidence('GET /api/healthz', m.healthz, 200)],
    };
  }
  if (!m.projectionHealth.ok) {
    return {
      result: 'failed',
      error: {
        code: m.projectionHealth.error.code,
        message: `projection health could not be read: ${m.projectionHealth.error.message}`,
      },
      transient: m.projectionHealth.error.transient,
      evidence: [callEvidence('GET /api/v1/projections/health', m.projectionHealth, 200)],
    };
  }
  // A job admitted between the two readings counts as live: a live run is never called an orphan.
  const active = Math.max(m.healthz.data.projector.active_replay_jobs, m.activeAfter ?? 0);
  const own = new Set(ctx.ownReplayJobIds);
  const data = m.projectionHealth.data;
  const open = data.open_runs.filter((r) => OPEN_STATUSES.has(r.status) && !own.has(r.job_id));
  const { orphans, detail } = attributeOrphans(open, data.tenant_id, active, m.sql);
  const source = httpSource(m.projectionHealth.evidence);
  return {
    result: 'passed',
    outputs: {
      orphans: orphans.map((r) => ({
        job_id: r.job_id,
        projection_name: r.projection_name,
        mode: r.mode,
        status: r.status,
        requested_at: r.requested_at ?? '',
        processed_events: r.processed_events ?? 0,
      })),
      hasOrphans: orphans.length > 0,
      orphanCount: orphans.length,
      activeReplayJobs: active,
      openRuns: open.length,
    },
    evidence: [
      evidence('healthz projector.active_replay_jobs (all tenants)', active, httpSource(m.healthz.evidence), {
        detail,
      }),
      evidence(
        'open replay runs (queued or running)',
        open.map((r) => `${r.job_id} ${r.mode} ${r.projection_name} ${r.status}`),
        source,
        {
          expected: [],
          ok: open.length === 0,
          ...(orphans.length > 0
            ? {
                detail:
                  `no live replay job owns ${orphans.map((r) => r.job_id).join(', ')}: cut off by a crash or ` +
                  'restart, they never finish',
              }
            : open.length > 0
              ? { detail: 'replay jobs are live for these, so they may still be running' }
              : {}),
        },
      ),
    ],
  };
};
