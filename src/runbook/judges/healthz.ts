import type { Evidence } from '../events.js';
import type { JsonObject } from '../json.js';
import type { HealthzMeasurement } from '../measurements.js';
import { callEvidence, evidence, httpSource } from './evidence.js';
import type { Judge, Verdict } from './types.js';

/**
 * What healthz says about the node. `up` needs more than a 200: DecisionGraph answers 200 with Postgres down and
 * only turns `projection_health` into `{"status":"unavailable"}` (contract §3.1).
 */
export type HealthzState = 'unreachable' | 'error' | 'db_unavailable' | 'repo_not_started' | 'up';

export function healthzState(m: HealthzMeasurement): HealthzState {
  if (!m.ok) return m.evidence.status === null ? 'unreachable' : 'error';
  if (m.evidence.status !== 200) return 'error';
  const ph = m.data.projection_health;
  if ('status' in ph && ph.status === 'unavailable') return 'db_unavailable';
  if (m.data.store['repo_started?'] !== true) return 'repo_not_started';
  return 'up';
}

function healthzOutputs(m: HealthzMeasurement): JsonObject {
  const state = healthzState(m);
  const out: JsonObject = { healthz: state, status: m.evidence.status };
  if (m.ok) {
    out.repoStarted = m.data.store['repo_started?'];
    out.activeReplayJobs = m.data.projector.active_replay_jobs;
    const ph = m.data.projection_health;
    out.projectionHealth = 'status' in ph && ph.status === 'unavailable' ? 'unavailable' : 'available';
  }
  return out;
}

function healthzEvidence(m: HealthzMeasurement): Evidence[] {
  const items: Evidence[] = [callEvidence('GET /api/healthz', m, 200)];
  if (m.ok) {
    const source = httpSource(m.evidence);
    const ph = m.data.projection_health;
    const unavailable = 'status' in ph && ph.status === 'unavailable';
    items.push(
      evidence('healthz projection_health', unavailable ? `unavailable: ${ph.reason}` : 'available', source, {
        expected: 'available',
        ok: !unavailable,
        ...(unavailable ? { detail: 'healthz answers 200 even when Postgres is down; this member is what tells' } : {}),
      }),
      evidence('healthz store repo_started?', m.data.store['repo_started?'], source, {
        expected: true,
        ok: m.data.store['repo_started?'] === true,
      }),
    );
  }
  return items;
}

/** Records what healthz shows without judging it: the symptom check at the start of a scenario. */
export const judgeHealthzSymptoms: Judge<HealthzMeasurement> = (m) => ({
  result: 'passed',
  outputs: healthzOutputs(m),
  evidence: healthzEvidence(m),
});

/**
 * healthz answered, but not usably (a 5xx, a status or body the contract does not allow): a failed check, which a
 * wait counts like any other bad answer (wait-checks.ts). No answer at all is a state of its own: `unreachable`.
 */
function brokenAnswer(m: HealthzMeasurement, outputs: JsonObject): Verdict | undefined {
  if (m.ok || m.evidence.status === null) return undefined;
  return {
    result: 'failed',
    error: { code: m.error.code, message: `healthz could not be read: ${m.error.message}` },
    transient: m.error.transient,
    outputs,
    evidence: healthzEvidence(m),
  };
}

/** Satisfied by any 200 from healthz: the runtime is up and serving, whatever its database says. */
export const judgeHealthzUp: Judge<HealthzMeasurement> = (m): Verdict => {
  const outputs = healthzOutputs(m);
  const up = m.ok && m.evidence.status === 200;
  if (up) {
    return {
      result: 'passed',
      outputs: { ...outputs, dbAvailable: healthzState(m) === 'up' },
      evidence: healthzEvidence(m),
    };
  }
  return brokenAnswer(m, outputs) ?? { result: 'waiting', outputs, evidence: healthzEvidence(m) };
};

/**
 * Satisfied when healthz is 200, its projection health is available and the repo has started: the runtime is
 * connected to Postgres again. `reconnected` tells later steps which way it went.
 */
export const judgeHealthzDbConnected: Judge<HealthzMeasurement> = (m): Verdict => {
  const connected = healthzState(m) === 'up';
  const outputs = { ...healthzOutputs(m), reconnected: connected };
  if (connected) return { result: 'passed', outputs, evidence: healthzEvidence(m) };
  return brokenAnswer(m, outputs) ?? { result: 'waiting', outputs, evidence: healthzEvidence(m) };
};

/** Satisfied when nothing answers on healthz: the runtime is stopped. */
export const judgeHealthzDown: Judge<HealthzMeasurement> = (m): Verdict => {
  const down = healthzState(m) === 'unreachable';
  const items = [
    evidence(
      'GET /api/healthz',
      m.evidence.status ?? (m.ok ? null : `no answer (${m.error.code})`),
      httpSource(m.evidence),
      {
        expected: 'no answer (runtime stopped)',
        ok: down,
      },
    ),
  ];
  return down
    ? { result: 'passed', outputs: healthzOutputs(m), evidence: items }
    : { result: 'waiting', outputs: healthzOutputs(m), evidence: items };
};
