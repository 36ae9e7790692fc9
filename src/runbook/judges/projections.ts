import type { Evidence, EvidenceSource } from '../events.js';
import { isJsonObject, type Json, type JsonObject } from '../json.js';
import type { ProjectionHealthBody, ProjectionHealthMeasurement } from '../measurements.js';
import { callEvidence, evidence, httpSource } from './evidence.js';
import { decideProgress, type ProgressDecision } from './progress-rules.js';
import type { Judge, Verdict } from './types.js';

/**
 * `current`: every projection at the tail, nothing pending. `catching_up`: a behind projection's cursor moved
 * between two samples. `behind_not_moving`: pending events and no cursor moved, which after a restart is the
 * normal state, because workers only start on a write or a replay (contract §4.2).
 */
export type ProjectionProgress = 'current' | 'catching_up' | 'behind_not_moving';

interface Sample {
  readonly at: string;
  readonly tail: number;
  readonly cursors: Record<string, number>;
  readonly pending: Record<string, number>;
}

function sampleOf(data: ProjectionHealthBody, at: Date): Sample {
  const cursors: Record<string, number> = {};
  const pending: Record<string, number> = {};
  for (const p of data.projections) {
    cursors[p.projection_name] = p.last_log_seq;
    pending[p.projection_name] = p.pending_events;
  }
  return { at: at.toISOString(), tail: data.event_log_last_seq, cursors, pending };
}

function readSample(progress: Json | undefined): Sample | undefined {
  if (!isJsonObject(progress) || !isJsonObject(progress.sample)) return undefined;
  const s = progress.sample;
  if (typeof s.at !== 'string' || typeof s.tail !== 'number' || !isJsonObject(s.cursors) || !isJsonObject(s.pending)) {
    return undefined;
  }
  return s as unknown as Sample;
}

export function isCurrent(data: ProjectionHealthBody): boolean {
  return data.projections.every((p) => p.pending_events === 0 && !p.is_stale);
}

/** The facts later steps and fingerprints use, from one projection-health reading. */
export function projectionOutputs(data: ProjectionHealthBody): JsonObject {
  const pendingTotal = data.projections.reduce((n, p) => n + p.pending_events, 0);
  const openFailures = data.projections.reduce((n, p) => n + p.open_failures, 0);
  return {
    eventLogLastSeq: data.event_log_last_seq,
    pendingTotal,
    maxPending: Math.max(0, ...data.projections.map((p) => p.pending_events)),
    openFailures,
    hasOpenFailures: openFailures > 0,
    staleProjections: data.projections.filter((p) => p.is_stale).map((p) => p.projection_name),
    openRuns: data.open_runs.length,
    projections: data.projections.map((p) => ({
      name: p.projection_name,
      lastLogSeq: p.last_log_seq,
      pending: p.pending_events,
      stale: p.is_stale,
      openFailures: p.open_failures,
    })),
  };
}

export function projectionEvidence(data: ProjectionHealthBody, source: EvidenceSource): Evidence[] {
  const items: Evidence[] = [];
  for (const p of data.projections) {
    items.push(
      evidence(`${p.projection_name} pending_events`, p.pending_events, source, {
        expected: 0,
        ok: p.pending_events === 0 && !p.is_stale,
        detail: `cursor ${p.last_log_seq}, tail ${data.event_log_last_seq}${p.is_stale ? ', stale' : ''}`,
      }),
      evidence(`${p.projection_name} open_failures`, p.open_failures, source, {
        expected: 0,
        ok: p.open_failures === 0,
      }),
    );
  }
  items.push(
    evidence(
      'open replay runs',
      data.open_runs.map((r) => `${r.job_id} ${r.mode} ${r.projection_name} ${r.status}`),
      source,
      { expected: [], ok: data.open_runs.length === 0 },
    ),
  );
  return items;
}

function failedRead(m: Extract<ProjectionHealthMeasurement, { ok: false }>): Verdict {
  return {
    result: 'failed',
    error: { code: m.error.code, message: `projection health could not be read: ${m.error.message}` },
    transient: m.error.transient,
    evidence: [callEvidence('GET /api/v1/projections/health', m, 200)],
  };
}

/** One reading: passes with the facts, whatever they are; later decisions and the gate judge them. */
export const judgeProjectionSnapshot: Judge<ProjectionHealthMeasurement> = (m): Verdict => {
  if (!m.ok) return failedRead(m);
  const current = isCurrent(m.data);
  return {
    result: 'passed',
    outputs: { state: current ? 'current' : 'behind', ...projectionOutputs(m.data) },
    evidence: [
      callEvidence('GET /api/v1/projections/health', m, 200),
      ...projectionEvidence(m.data, httpSource(m.evidence)),
    ],
  };
};

function projectorEvidence(m: ProjectionHealthMeasurement): Evidence[] {
  const p = m.projector;
  if (p === undefined) return [];
  if (!p.ok) {
    return [evidence('healthz projector', `not read: ${p.error.message}`, httpSource(p.evidence), { ok: false })];
  }
  const value = `active_workers ${p.data.active_workers}, active_replay_jobs ${p.data.active_replay_jobs}`;
  return [evidence('healthz projector', value, httpSource(p.evidence), { detail: 'every tenant of the node' })];
}

function progressDetail(d: ProgressDecision, pendingBefore: number | undefined, pendingNow: number, at?: string) {
  switch (d.reason) {
    case 'cursor_moved':
      return `cursor moved for ${d.moved.join(', ')}; pending ${pendingBefore} → ${pendingNow}`;
    case 'idle_workers':
      return (
        `pending ${pendingNow}, no projection worker and no replay job on the node: after a restart DecisionGraph ` +
        'starts projection workers only on a write or a replay, so no cursor can move (one reading decides)'
      );
    case 'no_cursor_moved':
      return (
        `pending ${pendingBefore} → ${pendingNow} and no cursor moved since ${at}; ` +
        'after a restart DecisionGraph starts projection workers only on a write or a replay'
      );
    default:
      return `pending ${pendingNow}`;
  }
}

/**
 * Tells "catching up" from "behind and not moving" as soon as the evidence allows: one reading when nothing on the
 * node can move a cursor (healthz read alongside), otherwise two readings one poll interval apart. A first reading
 * that is already current needs nothing more.
 */
export const judgeProjectionProgress: Judge<ProjectionHealthMeasurement> = (m, ctx): Verdict => {
  if (!m.ok) return failedRead(m);
  const source = httpSource(m.evidence);
  const sample = sampleOf(m.data, ctx.now);
  const base = projectionOutputs(m.data);
  const items = [
    callEvidence('GET /api/v1/projections/health', m, 200),
    ...projectionEvidence(m.data, source),
    ...projectorEvidence(m),
  ];
  const previous = readSample(ctx.progress);
  const decision = decideProgress({
    current: isCurrent(m.data),
    now: sample,
    ...(previous ? { previous } : {}),
    ...(m.projector?.ok ? { projector: m.projector.data } : {}),
  });
  if (decision.state === 'current') {
    return { result: 'passed', outputs: { state: 'current', ...base }, evidence: items };
  }
  if (decision.state === 'sampling') {
    return {
      result: 'waiting',
      outputs: { state: 'sampling', ...base },
      progress: { sample: sample as unknown as Json },
      evidence: items,
    };
  }
  const pendingBefore = previous ? Object.values(previous.pending).reduce((n, v) => n + v, 0) : undefined;
  items.push(
    evidence(previous ? 'projection progress between samples' : 'projection progress', decision.state, source, {
      expected: 'current or catching_up',
      ok: decision.state === 'catching_up',
      detail: progressDetail(decision, pendingBefore, Number(base.pendingTotal), previous?.at),
    }),
  );
  return {
    result: 'passed',
    outputs: {
      state: decision.state,
      decidedBy: decision.reason,
      ...base,
      ...(previous ? { pendingBefore: pendingBefore ?? 0, sampledAt: previous.at } : {}),
    },
    evidence: items,
  };
};
