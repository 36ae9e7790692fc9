import type { Evidence } from '../events.js';
import type { SmokeMeasurement } from '../measurements.js';
import { evidence } from './evidence.js';
import type { Judge, Verdict } from './types.js';

function smokeEvidence(m: SmokeMeasurement): Evidence[] {
  return m.checks.map((c) =>
    evidence(
      `smoke: ${c.name}`,
      c.ok ? 'pass' : 'fail',
      { ...c.source },
      { expected: 'pass', ok: c.ok, detail: c.detail },
    ),
  );
}

function summary(m: SmokeMeasurement) {
  const failing = m.checks
    .filter((c) => !c.ok)
    .map((c) => c.name)
    .sort();
  const passing = m.checks
    .filter((c) => c.ok)
    .map((c) => c.name)
    .sort();
  // The smoke replay is the run's own: the checklist waits for it instead of calling it a foreign open run.
  const startedReplayJobIds = m.checks.flatMap((c) => (c.jobId === undefined ? [] : [c.jobId]));
  return { failing, passing, allPassed: failing.length === 0 && m.checks.length > 0, startedReplayJobIds };
}

/** Records which smoke checks fail (before a rollback), without judging. */
export const judgeSmokeRecord: Judge<SmokeMeasurement> = (m) => ({
  result: 'passed',
  outputs: summary(m),
  evidence: smokeEvidence(m),
});

/** Every smoke check must pass. */
export const judgeSmokePass: Judge<SmokeMeasurement> = (m): Verdict => {
  const s = summary(m);
  if (s.allPassed) return { result: 'passed', outputs: s, evidence: smokeEvidence(m) };
  return {
    result: 'failed',
    error: {
      code: 'smoke_failed',
      message: m.checks.length === 0 ? 'no smoke check ran' : `smoke checks failing: ${s.failing.join(', ')}`,
    },
    transient: false,
    outputs: s,
    evidence: smokeEvidence(m),
  };
};
