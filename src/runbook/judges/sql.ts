import type { Evidence, EvidenceSource } from '../events.js';
import type { JsonObject } from '../json.js';
import {
  INTEGRITY_CHECKS,
  type IntegrityCheckName,
  type SqlCursorAheadMeasurement,
  type SqlFailure,
  type SqlIntegrityMeasurement,
  type SqlParityMeasurement,
  type SqlProjectionFailuresMeasurement,
  type SqlReachMeasurement,
} from '../measurements.js';
import { evidence, plural, toCount } from './evidence.js';
import type { Judge, Verdict } from './types.js';

function sqlSource(sql: string, latencyMs: number): EvidenceSource {
  return { kind: 'sql', sql: sql.slice(0, 4000), latencyMs: Math.max(0, latencyMs) };
}

/**
 * A SQL probe that could not run measured nothing: the step fails with the probe's code, and a transient failure
 * (unreachable, timed out) is retried by the step's policy, or checked again inside a poll. Never a pass: an
 * empty list of checks or rows is not a clean log.
 */
function notMeasured(what: string, error: SqlFailure, source: EvidenceSource): Verdict {
  return {
    result: 'failed',
    error: { code: error.code.slice(0, 100), message: `${what} could not be measured: ${error.message}` },
    transient: error.transient,
    evidence: [
      evidence(what, `not measured (${error.code})`, source, {
        expected: 'measured',
        ok: false,
        detail: error.message,
      }),
    ],
  };
}

function reachEvidence(m: SqlReachMeasurement): Evidence {
  return evidence(
    'DecisionGraph Postgres (SELECT 1)',
    m.reachable ? 'reachable' : `unreachable${m.error ? ` (${m.error.code})` : ''}`,
    sqlSource('SELECT 1', m.latencyMs),
    {
      expected: 'reachable',
      ok: m.reachable,
      ...(m.error ? { detail: m.error.message } : m.serverVersion ? { detail: `server ${m.serverVersion}` } : {}),
    },
  );
}

/** Records whether DecisionGraph's Postgres answers SQL, without judging it. */
export const judgeSqlSymptoms: Judge<SqlReachMeasurement> = (m) => ({
  result: 'passed',
  outputs: { postgres: m.reachable ? 'reachable' : 'unreachable', ...(m.error ? { errorCode: m.error.code } : {}) },
  evidence: [reachEvidence(m)],
});

/** Satisfied once SQL connects. */
export const judgeSqlReachable: Judge<SqlReachMeasurement> = (m): Verdict =>
  m.reachable
    ? { result: 'passed', outputs: { postgres: 'reachable' }, evidence: [reachEvidence(m)] }
    : { result: 'waiting', outputs: { postgres: 'unreachable' }, evidence: [reachEvidence(m)] };

/**
 * Storage errors are retried by the worker and cleared by a catch_up; hash mismatches (`conflict`), trace_seq
 * gaps and schema violations stop the worker for good (contract §4.2), which points at a rebuild or at the log.
 */
const TRANSIENT_FAILURE_CODES = new Set(['storage']);

/** Open projection failure rows, grouped, with a suggestion: transient → catch_up, semantic → rebuild. */
export const judgeProjectionFailures: Judge<SqlProjectionFailuresMeasurement> = (m): Verdict => {
  const source = sqlSource(m.sql, m.latencyMs);
  if (m.error) return notMeasured('open projection failure rows', m.error, source);
  const rows = m.rows.map((r) => ({
    projection: r.projection_name,
    errorCode: r.error_code,
    eventId: r.event_id ?? '',
    logSeq: r.log_seq === null ? null : toCount(r.log_seq),
    count: toCount(r.count),
    transient: TRANSIENT_FAILURE_CODES.has(r.error_code) || r.recoverable === true,
  }));
  const total = rows.reduce((n, r) => n + r.count, 0);
  const semantic = rows.filter((r) => !r.transient);
  const transient = rows.filter((r) => r.transient);
  const kinds =
    rows.length === 0 ? 'none' : semantic.length === 0 ? 'transient' : transient.length === 0 ? 'semantic' : 'mixed';
  const affected = [...new Set(rows.map((r) => r.projection))].sort();
  const semanticProjections = [...new Set(semantic.map((r) => r.projection))].sort();
  const signature = [...new Set(rows.map((r) => `${r.projection}|${r.errorCode}|${r.eventId}`))].sort();
  const items: Evidence[] = [
    evidence('open projection failure rows', total, source, {
      expected: 0,
      ok: total === 0,
      ...(rows.length > 0 ? { detail: `${kinds}: ${plural(rows.length, 'distinct failure')}` } : {}),
    }),
    ...rows.slice(0, 10).map((r) =>
      evidence(`${r.projection} ${r.errorCode}`, r.count, source, {
        detail: `event ${r.eventId || '?'} at log_seq ${r.logSeq ?? '?'}, ${r.transient ? 'transient' : 'semantic'}`,
      }),
    ),
  ];
  return {
    result: 'passed',
    outputs: {
      openFailures: total,
      kinds,
      suggested: semantic.length > 0 ? 'rebuild' : 'catch_up',
      affectedProjections: affected,
      rebuildTarget: semanticProjections.length === 1 ? (semanticProjections[0] as string) : 'all',
      signature,
    },
    evidence: items,
  };
};

/** What a cursor ahead of the tail means, said wherever the bot finds one. */
export const CURSOR_AHEAD_MEANING =
  'the projection tables are newer than the event log (a log restored under projections that were not): health ' +
  'looks clean (pending 0, not stale) but is not, and events appended now get log_seqs the cursors have already ' +
  'passed, so they are never projected. A catch_up starts at the cursor and cannot fix it; only a rebuild can';

/**
 * Projection cursors past the tenant's event-log tail (contract §5.4), which projection health cannot show. Passes
 * with the facts either way (a later decision acts on them); fails only when the query could not run.
 */
export const judgeCursorAhead: Judge<SqlCursorAheadMeasurement> = (m): Verdict => {
  const source = sqlSource(m.sql, m.latencyMs);
  if (m.error) return notMeasured('projection cursors against the event-log tail', m.error, source);
  const rows = m.rows.map((r) => ({
    projection: r.projection_name,
    cursor: toCount(r.last_log_seq),
    tail: toCount(r.tail),
  }));
  return {
    result: 'passed',
    outputs: {
      hasCursorAhead: rows.length > 0,
      cursorAhead: rows.length,
      projectionsAhead: rows.map((r) => r.projection),
    },
    evidence: [
      evidence(
        'projection cursors ahead of the event-log tail',
        rows.map((r) => `${r.projection} at ${r.cursor} > tail ${r.tail}`),
        source,
        { expected: [], ok: rows.length === 0, ...(rows.length > 0 ? { detail: CURSOR_AHEAD_MEANING } : {}) },
      ),
    ],
  };
};

const DAMAGE_CHECKS: readonly IntegrityCheckName[] = [
  'payload_hash_drift',
  'trace_seq_range',
  'trace_seq_step',
  'trace_started_mismatch',
  'events_after_finish',
];

const CHECK_LABELS: Record<IntegrityCheckName, string> = {
  payload_hash_drift: 'payload hash drift',
  trace_seq_range: 'trace_seq not 0..n-1',
  trace_seq_step: 'trace_seq not rising by 1',
  trace_started_mismatch: 'trace_seq 0 without TraceStarted (or the reverse)',
  events_after_finish: 'events after TraceFinished',
  cursor_ahead: 'projection cursor ahead of the event tail',
};

/** A scan that failed or left a check out says nothing about the log. */
function integrityIncomplete(m: SqlIntegrityMeasurement): Verdict | undefined {
  const source = sqlSource(m.checks[0]?.sql ?? '-- integrity checks', m.checks[0]?.latencyMs ?? 0);
  if (m.error) return notMeasured('event log integrity checks', m.error, source);
  const present = new Set(m.checks.map((c) => c.name));
  const missing = INTEGRITY_CHECKS.filter((c) => !present.has(c));
  if (missing.length === 0) return undefined;
  return {
    result: 'failed',
    error: {
      code: 'integrity_incomplete',
      message: `the integrity scan did not report ${missing.map((c) => CHECK_LABELS[c]).join(', ')}: the log cannot be called clean`,
    },
    transient: false,
    evidence: [
      evidence('integrity checks reported', m.checks.length, source, {
        expected: INTEGRITY_CHECKS.length,
        ok: false,
        detail: `missing: ${missing.join(', ')}`,
      }),
    ],
  };
}

function integrityFacts(m: SqlIntegrityMeasurement): { outputs: JsonObject; items: Evidence[]; damage: number } {
  const counts: Record<string, number> = {};
  const items: Evidence[] = [];
  for (const check of m.checks) {
    counts[check.name] = (counts[check.name] ?? 0) + check.rowCount;
    const ids = check.sample.slice(0, 5).map((row) =>
      ['event_id', 'trace_id', 'log_seq', 'projection_name']
        .map((k) => row[k])
        .filter((v) => v != null)
        .join(' '),
    );
    items.push(
      evidence(CHECK_LABELS[check.name], check.rowCount, sqlSource(check.sql, check.latencyMs), {
        expected: 0,
        ok: check.rowCount === 0,
        ...(ids.length > 0 ? { detail: `e.g. ${ids.join('; ')}` } : {}),
      }),
    );
  }
  const damage = DAMAGE_CHECKS.reduce((n, c) => n + (counts[c] ?? 0), 0);
  const cursorAhead = counts.cursor_ahead ?? 0;
  return {
    outputs: {
      damage: damage > 0 ? 'found' : 'none',
      damagedRows: damage,
      hashDrift: counts.payload_hash_drift ?? 0,
      orderingViolations:
        (counts.trace_seq_range ?? 0) +
        (counts.trace_seq_step ?? 0) +
        (counts.trace_started_mismatch ?? 0) +
        (counts.events_after_finish ?? 0),
      cursorAhead,
      hasCursorAhead: cursorAhead > 0,
      signature: DAMAGE_CHECKS.map((c) => `${c}=${counts[c] ?? 0}`),
    },
    items,
    damage,
  };
}

/**
 * Gathers the event-log evidence (hash drift, impossible ordering, cursors ahead) without judging it; fails only
 * when the scan did not complete, since "no damage" must come from checks that ran.
 */
export const judgeIntegrityEvidence: Judge<SqlIntegrityMeasurement> = (m) => {
  const incomplete = integrityIncomplete(m);
  if (incomplete) return incomplete;
  const { outputs, items } = integrityFacts(m);
  return { result: 'passed', outputs, evidence: items };
};

/** Fails when the event log (e.g. a restored one) still shows damage; cursors ahead are reported, not failed. */
export const judgeIntegrityClean: Judge<SqlIntegrityMeasurement> = (m): Verdict => {
  const incomplete = integrityIncomplete(m);
  if (incomplete) return incomplete;
  const { outputs, items, damage } = integrityFacts(m);
  if (damage > 0) {
    return {
      result: 'failed',
      error: {
        code: 'event_log_damaged',
        message: `the event log still shows ${plural(damage, 'damaged row')}: restore another backup or investigate`,
      },
      transient: false,
      outputs,
      evidence: items,
    };
  }
  return { result: 'passed', outputs, evidence: items };
};

function parityOutputs(m: SqlParityMeasurement): JsonObject {
  return { eventCount: m.eventCount, maxLogSeq: m.maxLogSeq, tenantCount: m.tenantCount };
}

/** Records the event log's size and tail (before a restore, to compare with after). */
export const judgeParityRecord: Judge<SqlParityMeasurement> = (m) => {
  const source = sqlSource(m.sql, m.latencyMs);
  if (m.error) return notMeasured('dg_event_log COUNT(*) and MAX(log_seq)', m.error, source);
  return {
    result: 'passed',
    outputs: parityOutputs(m),
    evidence: [
      evidence('dg_event_log COUNT(*)', m.eventCount, source),
      evidence('dg_event_log MAX(log_seq)', m.maxLogSeq, source),
    ],
  };
};

/**
 * Compares the restored log with the one recorded before the restore (`params.referenceCount`,
 * `params.referenceMaxLogSeq`). A backup is older, so fewer events is expected and the difference is reported as
 * what the restore left out (kept in the preserved database); an empty log fails.
 */
export const judgeParityCompare: Judge<SqlParityMeasurement> = (m, ctx): Verdict => {
  const source = sqlSource(m.sql, m.latencyMs);
  if (m.error) return notMeasured('restored dg_event_log COUNT(*)', m.error, source);
  const refCount = typeof ctx.params.referenceCount === 'number' ? ctx.params.referenceCount : undefined;
  const refTail = typeof ctx.params.referenceMaxLogSeq === 'number' ? ctx.params.referenceMaxLogSeq : undefined;
  const outputs: JsonObject = { ...parityOutputs(m) };
  const items: Evidence[] = [
    evidence('restored dg_event_log COUNT(*)', m.eventCount, source, {
      ...(refCount !== undefined ? { expected: `> 0 and ≤ ${refCount} (before the restore)` } : { expected: '> 0' }),
      ok: m.eventCount > 0,
    }),
  ];
  if (refCount !== undefined) {
    const missing = refCount - m.eventCount;
    outputs.eventsNotRestored = missing;
    items.push(
      evidence('events not in the restored log', missing, source, {
        detail:
          missing > 0
            ? 'appended after the backup was taken; the preserved database keeps them for investigation'
            : missing < 0
              ? 'the restored log holds more events than the damaged one did (rows were missing there)'
              : 'same count as before the restore',
      }),
    );
  }
  if (refTail !== undefined) {
    items.push(evidence('restored MAX(log_seq)', m.maxLogSeq, source, { detail: `before the restore: ${refTail}` }));
  }
  if (m.eventCount === 0) {
    return {
      result: 'failed',
      error: { code: 'restore_empty', message: 'the restored event log is empty: wrong artifact or target database' },
      transient: false,
      outputs,
      evidence: items,
    };
  }
  return { result: 'passed', outputs, evidence: items };
};
