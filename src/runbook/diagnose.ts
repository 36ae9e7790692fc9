import type { Evidence, EvidenceSource } from './events.js';
import { callEvidence, evidence, httpSource, plural } from './judges/evidence.js';
import { type HealthzState, healthzState } from './judges/healthz.js';
import type {
  HealthzMeasurement,
  IntegrityCheckName,
  OpenRunBody,
  ProjectionHealthBody,
  ProjectionHealthMeasurement,
  SmokeCheck,
  SmokeMeasurement,
  SqlIntegrityMeasurement,
  SqlParityMeasurement,
  SqlReachMeasurement,
} from './measurements.js';
import type { ScenarioName } from './scenario-schema.js';

// `/dg diagnose`: which scenario a read-only probe sweep's symptoms fit. Every rule comes back with the facts it
// read, so a person sees why and what else was seen. It is advice: a person starts (or does not) the recovery.

/** The event log size recorded earlier (after a drill, before an upgrade), to compare the current one with. */
export interface ParityReference {
  readonly eventCount: number;
  readonly maxLogSeq: number;
  /** When the reference was taken, shown with the comparison. */
  readonly recordedAt?: string;
}

/** The release the host runs and the last one known to be good, when the deployment knows them. */
export interface ReleaseInfo {
  readonly current?: string;
  readonly knownGood?: string;
}

/** What one read-only sweep measured. Probes that were not run (or could not run) are left out. */
export interface ProbeSweep {
  /** `GET /api/healthz`. */
  readonly healthz: HealthzMeasurement;
  /** The tenant's authenticated `GET /api/v1/projections/health`. */
  readonly projectionHealth?: ProjectionHealthMeasurement;
  /** Connect and `SELECT 1` with the read-only role. */
  readonly sqlReach: SqlReachMeasurement;
  /** The SQL integrity checks (contract §5.4); absent, or with `error`, when Postgres could not be queried. */
  readonly integrity?: SqlIntegrityMeasurement;
  /** The event log's size now (with `error` when it could not be read) and a reference to compare it with. */
  readonly parity?: { readonly current: SqlParityMeasurement; readonly reference?: ParityReference };
  /** `dg_projection_runs` rows with status queued or running (all tenants), from SQL. */
  readonly openRuns?: readonly OpenRunBody[];
  /** The install smoke checks. */
  readonly smoke?: SmokeMeasurement;
  readonly release?: ReleaseInfo;
}

export type DiagnosisVerdict = 'healthy' | 'scenario' | 'unclear';

export interface DiagnosisRule {
  /** Stable id, e.g. `event_log.payload_hash_drift`. */
  readonly id: string;
  /** The scenario the rule points at when it matches; absent for rules that detect contradictions or gaps. */
  readonly scenario?: ScenarioName;
  readonly matched: boolean;
  /** One sentence with the values read, whether or not the rule matched. */
  readonly because: string;
  readonly evidence: readonly Evidence[];
}

export interface Diagnosis {
  readonly verdict: DiagnosisVerdict;
  /** Set only when `verdict` is `scenario`. */
  readonly scenario?: ScenarioName;
  /** The verdict comes from fixed rules over measured facts, never from a guess. */
  readonly confidence: 'rule-matched';
  /** Scenarios whose rules matched, in the runbook's order of priority (the chosen one first). */
  readonly candidates: readonly ScenarioName[];
  /** Every rule, in evaluation order, matched or not. */
  readonly rules: readonly DiagnosisRule[];
  /** A few sentences for people: what fits and why, what else was seen, what was not measured. */
  readonly explanation: string;
}

const SCENARIO_TITLES: Readonly<Record<ScenarioName, string>> = {
  restart: 'App node restart or host reboot',
  postgres: 'Postgres temporarily unavailable',
  projections: 'Projection corruption or stale reads',
  'event-log': 'Suspected event-log damage',
  upgrade: 'Failed upgrade',
};

/**
 * The runbook's priorities: protect the event log, then reachability (Postgres before the runtime), then the
 * release, then projection readability.
 */
const PRIORITY: readonly ScenarioName[] = ['event-log', 'postgres', 'restart', 'upgrade', 'projections'];

const OPEN_STATUSES = new Set(['queued', 'running']);
const ENGINE: EvidenceSource = { kind: 'engine' };
const ORDERING_CHECKS: readonly IntegrityCheckName[] = ['trace_seq_range', 'trace_seq_step', 'trace_started_mismatch'];

interface Facts {
  readonly hz: HealthzState;
  readonly sqlUp: boolean;
  /** Projection health: the tenant's, else the one healthz embeds (tenant `default`). */
  readonly ph: { readonly data: ProjectionHealthBody; readonly source: EvidenceSource; readonly from: string } | null;
  readonly activeReplayJobs: number | null;
  readonly counts: ReadonlyMap<IntegrityCheckName, number>;
  readonly failingSmoke: readonly SmokeCheck[];
}

function gatherFacts(s: ProbeSweep): Facts {
  const hz = healthzState(s.healthz);
  let ph: Facts['ph'] = null;
  if (s.projectionHealth?.ok) {
    ph = {
      data: s.projectionHealth.data,
      source: httpSource(s.projectionHealth.evidence),
      from: 'GET /api/v1/projections/health',
    };
  } else if (s.healthz.ok && !('status' in s.healthz.data.projection_health)) {
    ph = { data: s.healthz.data.projection_health, source: httpSource(s.healthz.evidence), from: 'healthz' };
  }
  const counts = new Map<IntegrityCheckName, number>();
  for (const check of integrityChecks(s)) counts.set(check.name, (counts.get(check.name) ?? 0) + check.rowCount);
  return {
    hz,
    sqlUp: s.sqlReach.reachable,
    ph,
    activeReplayJobs: s.healthz.ok ? s.healthz.data.projector.active_replay_jobs : null,
    counts,
    failingSmoke: (s.smoke?.checks ?? []).filter((c) => !c.ok),
  };
}

/** The integrity checks that ran; none when the scan failed (its `error` says why). */
function integrityChecks(s: ProbeSweep): SqlIntegrityMeasurement['checks'] {
  return s.integrity === undefined || s.integrity.error !== undefined ? [] : s.integrity.checks;
}

function integrityRule(
  s: ProbeSweep,
  f: Facts,
  id: string,
  names: readonly IntegrityCheckName[],
  what: string,
): DiagnosisRule {
  const checks = integrityChecks(s).filter((c) => names.includes(c.name));
  if (checks.length === 0) {
    const why = s.integrity?.error ? ` (${s.integrity.error.code})` : f.sqlUp ? '' : ' (Postgres unreachable)';
    return {
      id,
      scenario: 'event-log',
      matched: false,
      because: `not measured: the ${what} check did not run${why}`,
      evidence: [],
    };
  }
  const rows = names.reduce((n, name) => n + (f.counts.get(name) ?? 0), 0);
  const items = checks.map((c) =>
    evidence(
      c.name,
      c.rowCount,
      { kind: 'sql', sql: c.sql.slice(0, 4000), latencyMs: Math.max(0, c.latencyMs) },
      {
        expected: 0,
        ok: c.rowCount === 0,
        ...(c.sample.length > 0 ? { detail: `e.g. ${sampleText(c.sample)}` } : {}),
      },
    ),
  );
  return {
    id,
    scenario: 'event-log',
    matched: rows > 0,
    because: rows > 0 ? `${what}: ${plural(rows, 'row')} found` : `${what}: none found`,
    evidence: items,
  };
}

function sampleText(sample: readonly Readonly<Record<string, unknown>>[]): string {
  return sample
    .slice(0, 3)
    .map((row) =>
      ['tenant_id', 'trace_id', 'event_id', 'log_seq', 'projection_name']
        .map((k) => row[k])
        .filter((v) => v !== null && v !== undefined)
        .map(String)
        .join(' '),
    )
    .join('; ');
}

function parityRule(s: ProbeSweep): DiagnosisRule {
  const id = 'event_log.parity_shrunk';
  const p = s.parity;
  if (p === undefined || p.reference === undefined) {
    return {
      id,
      scenario: 'event-log',
      matched: false,
      because: 'not measured: no parity reference is known',
      evidence: [],
    };
  }
  if (p.current.error !== undefined) {
    // Counts of a failed query are zeros, not a shrunk log.
    return {
      id,
      scenario: 'event-log',
      matched: false,
      because: `not measured: the event log could not be counted (${p.current.error.code})`,
      evidence: [],
    };
  }
  const source: EvidenceSource = { kind: 'sql', sql: p.current.sql.slice(0, 4000), latencyMs: p.current.latencyMs };
  const ref = p.reference;
  const when = ref.recordedAt ? ` (recorded ${ref.recordedAt})` : '';
  const shrunk = p.current.eventCount < ref.eventCount || p.current.maxLogSeq < ref.maxLogSeq;
  return {
    id,
    scenario: 'event-log',
    matched: shrunk,
    because: shrunk
      ? `the append-only event log holds less than before: ${p.current.eventCount} events up to log_seq ` +
        `${p.current.maxLogSeq}, against ${ref.eventCount} up to ${ref.maxLogSeq}${when}`
      : `the event log has not shrunk: ${p.current.eventCount} events up to log_seq ${p.current.maxLogSeq}, ` +
        `reference ${ref.eventCount} up to ${ref.maxLogSeq}${when}`,
    evidence: [
      evidence('dg_event_log COUNT(*)', p.current.eventCount, source, {
        expected: `≥ ${ref.eventCount}`,
        ok: p.current.eventCount >= ref.eventCount,
      }),
      evidence('dg_event_log MAX(log_seq)', p.current.maxLogSeq, source, {
        expected: `≥ ${ref.maxLogSeq}`,
        ok: p.current.maxLogSeq >= ref.maxLogSeq,
      }),
    ],
  };
}

function sqlEvidence(s: ProbeSweep): Evidence {
  const m = s.sqlReach;
  return evidence(
    'DecisionGraph Postgres (SELECT 1)',
    m.reachable ? 'reachable' : `unreachable${m.error ? ` (${m.error.code})` : ''}`,
    { kind: 'sql', sql: 'SELECT 1', latencyMs: Math.max(0, m.latencyMs) },
    { expected: 'reachable', ok: m.reachable, ...(m.error ? { detail: m.error.message } : {}) },
  );
}

function healthzEvidence(s: ProbeSweep, f: Facts): Evidence[] {
  const items = [callEvidence('GET /api/healthz', s.healthz, 200)];
  if (s.healthz.ok) {
    const source = httpSource(s.healthz.evidence);
    const ph = s.healthz.data.projection_health;
    items.push(
      evidence('healthz projection_health', 'status' in ph ? `unavailable: ${ph.reason}` : 'available', source, {
        expected: 'available',
        ok: !('status' in ph),
      }),
      evidence('healthz store repo_started?', s.healthz.data.store['repo_started?'], source, {
        expected: true,
        ok: s.healthz.data.store['repo_started?'] === true,
      }),
    );
  }
  items.push(evidence('healthz state', f.hz, ENGINE, { expected: 'up', ok: f.hz === 'up' }));
  return items;
}

function openRunsOf(s: ProbeSweep, f: Facts): OpenRunBody[] {
  const runs = new Map<string, OpenRunBody>();
  for (const r of [...(f.ph?.data.open_runs ?? []), ...(s.openRuns ?? [])]) {
    if (OPEN_STATUSES.has(r.status) && !runs.has(r.job_id)) runs.set(r.job_id, r);
  }
  return [...runs.values()].sort((a, b) => (a.job_id < b.job_id ? -1 : a.job_id > b.job_id ? 1 : 0));
}

function projectionRules(s: ProbeSweep, f: Facts): DiagnosisRule[] {
  const up = f.hz === 'up';
  const notUp = `healthz is ${f.hz}, not up: projection symptoms are not judged while the service itself is down`;
  const ph = f.ph;
  const unread = 'not measured: projection health could not be read';
  const stale = ph?.data.projections.filter((p) => p.is_stale || p.pending_events > 0) ?? [];
  const failures = ph?.data.projections.filter((p) => p.open_failures > 0) ?? [];
  const projectionItems = (ph?.data.projections ?? []).map((p) =>
    evidence(`${p.projection_name} pending_events`, p.pending_events, ph?.source ?? ENGINE, {
      expected: 0,
      ok: p.pending_events === 0 && !p.is_stale,
      detail: `cursor ${p.last_log_seq}, tail ${ph?.data.event_log_last_seq}${p.is_stale ? ', stale' : ''}`,
    }),
  );
  const failureItems = (ph?.data.projections ?? []).map((p) =>
    evidence(`${p.projection_name} open_failures`, p.open_failures, ph?.source ?? ENGINE, {
      expected: 0,
      ok: p.open_failures === 0,
    }),
  );
  const open = openRunsOf(s, f);
  const orphans = f.activeReplayJobs === 0 ? open : [];
  const runText = (runs: readonly OpenRunBody[]) =>
    runs.map((r) => `${r.job_id} (${r.mode} of ${r.projection_name}, ${r.status})`).join(', ');
  return [
    {
      id: 'projections.stale',
      scenario: 'projections',
      matched: up && stale.length > 0,
      because: !up
        ? notUp
        : ph === null
          ? unread
          : stale.length > 0
            ? `healthz is up and ${stale.map((p) => `${p.projection_name} is ${p.pending_events} behind`).join(', ')} ` +
              `(tail ${ph.data.event_log_last_seq}, read from ${ph.from})`
            : `every projection is at the tail ${ph.data.event_log_last_seq}`,
      evidence: projectionItems,
    },
    {
      id: 'projections.open_failures',
      scenario: 'projections',
      matched: up && failures.length > 0,
      because: !up
        ? notUp
        : ph === null
          ? unread
          : failures.length > 0
            ? `open projection failures: ${failures.map((p) => `${p.projection_name} ${p.open_failures}`).join(', ')}`
            : 'no open projection failures',
      evidence: failureItems,
    },
    {
      id: 'projections.orphaned_runs',
      scenario: 'projections',
      matched: up && orphans.length > 0,
      because: !up
        ? notUp
        : orphans.length > 0
          ? `${plural(orphans.length, 'replay run')} marked open while DecisionGraph has no live replay job ` +
            `(active_replay_jobs 0): ${runText(orphans)}`
          : open.length > 0
            ? `${plural(open.length, 'replay run')} open with ${f.activeReplayJobs} live replay job(s): ` +
              `${runText(open)}; not orphaned`
            : 'no replay run is queued or running',
      evidence: [
        evidence('open replay runs (queued or running)', open.map(runLine), ph?.source ?? { kind: 'sql' }, {
          expected: [],
          ok: open.length === 0,
        }),
        evidence('healthz projector.active_replay_jobs', f.activeReplayJobs, httpSource(s.healthz.evidence)),
      ],
    },
  ];
}

function runLine(r: OpenRunBody): string {
  return `${r.job_id} ${r.mode} ${r.projection_name} ${r.status}`;
}

function smokeItems(s: ProbeSweep): Evidence[] {
  return (s.smoke?.checks ?? []).map((c) =>
    evidence(
      `smoke: ${c.name}`,
      c.ok ? 'pass' : 'fail',
      { ...c.source },
      { expected: 'pass', ok: c.ok, detail: c.detail },
    ),
  );
}

function upgradeRule(s: ProbeSweep, f: Facts): DiagnosisRule {
  const id = 'upgrade.smoke_failing_on_new_release';
  const r = s.release;
  const releaseItem = evidence(
    'release',
    r?.current ?? 'unknown',
    { kind: 'host' },
    {
      expected: r?.knownGood ?? 'unknown',
      ...(r?.current !== undefined && r.knownGood !== undefined ? { ok: r.current === r.knownGood } : {}),
      detail: 'the running release against the last known-good one',
    },
  );
  const items = [releaseItem, ...smokeItems(s)];
  if (s.smoke === undefined || s.smoke.checks.length === 0) {
    return { id, scenario: 'upgrade', matched: false, because: 'not measured: no smoke check ran', evidence: items };
  }
  const failing = f.failingSmoke.map((c) => c.name).join(', ');
  if (r?.current === undefined || r.knownGood === undefined) {
    return {
      id,
      scenario: 'upgrade',
      matched: false,
      because:
        f.failingSmoke.length > 0
          ? `smoke checks fail (${failing}), but the running or the known-good release is not known, so a failed ` +
            'upgrade can be neither confirmed nor ruled out'
          : 'every smoke check passes',
      evidence: items,
    };
  }
  const differs = r.current !== r.knownGood;
  return {
    id,
    scenario: 'upgrade',
    matched: differs && f.failingSmoke.length > 0,
    because:
      f.failingSmoke.length === 0
        ? `every smoke check passes on release ${r.current}`
        : differs
          ? `smoke checks fail (${failing}) on release ${r.current}, which is not the known-good ${r.knownGood}`
          : `smoke checks fail (${failing}) on the known-good release ${r.current}: not a failed upgrade`,
    evidence: items,
  };
}

function reachabilityRules(s: ProbeSweep, f: Facts): DiagnosisRule[] {
  const hzItems = healthzEvidence(s, f);
  const sqlItem = sqlEvidence(s);
  const disconnected = f.hz === 'db_unavailable' || f.hz === 'repo_not_started';
  return [
    {
      id: 'postgres.sql_unreachable',
      scenario: 'postgres',
      matched: !f.sqlUp,
      because: f.sqlUp
        ? "DecisionGraph's Postgres answers SQL"
        : `DecisionGraph's Postgres does not answer SQL${s.sqlReach.error ? ` (${s.sqlReach.error.code})` : ''}`,
      evidence: [sqlItem],
    },
    {
      id: 'postgres.runtime_disconnected',
      scenario: 'postgres',
      matched: disconnected,
      because: disconnected
        ? f.hz === 'db_unavailable'
          ? 'healthz answers 200 but reports projection health unavailable: the runtime has lost its database'
          : 'healthz answers 200 but the repo has not started: the runtime is not connected to its database'
        : `healthz is ${f.hz}`,
      evidence: hzItems,
    },
    {
      id: 'restart.healthz_unreachable',
      scenario: 'restart',
      matched: f.hz === 'unreachable' && f.sqlUp,
      because:
        f.hz !== 'unreachable'
          ? `healthz answers (${f.hz})`
          : f.sqlUp
            ? 'nothing answers on healthz while Postgres answers SQL: the runtime is down'
            : 'nothing answers on healthz, but Postgres is down too, so a restart alone cannot help',
      evidence: [...hzItems, sqlItem],
    },
  ];
}

function conflictRules(s: ProbeSweep, f: Facts, matched: ReadonlySet<ScenarioName>, stale: boolean): DiagnosisRule[] {
  const rules: DiagnosisRule[] = [];
  const bothWays = !f.sqlUp && f.hz === 'up';
  rules.push({
    id: 'conflict.sql_unreachable_but_runtime_connected',
    matched: bothWays,
    because: bothWays
      ? "the bot cannot reach DecisionGraph's Postgres, yet DecisionGraph reports its database connected: the " +
        "bot's own database access (address, role, network) is the likelier fault, not DecisionGraph's Postgres"
      : 'the bot and DecisionGraph agree on whether Postgres answers',
    evidence: [sqlEvidence(s), ...healthzEvidence(s, f).slice(0, 2)],
  });
  const explained = matched.has('postgres') || matched.has('restart') || matched.has('upgrade');
  // Stale projections explain reads refused with 409 and the smoke check that reads the same staleness.
  const byStale = (c: SmokeCheck) => stale && (c.source.status === 409 || c.name === 'projections_current');
  const unexplained = explained ? [] : f.failingSmoke.filter((c) => !byStale(c));
  rules.push({
    id: 'conflict.smoke_unexplained',
    matched: unexplained.length > 0,
    because:
      unexplained.length > 0
        ? `smoke checks fail in a way no matched rule explains: ${unexplained
            .map((c) => `${c.name} (${c.source.status ?? 'no answer'}: ${c.detail})`)
            .join('; ')}` +
          (stale ? '; stale projections explain 409 answers, not these' : '') +
          (s.release?.current === undefined || s.release.knownGood === undefined
            ? '; if a new release was installed, the release and the known-good one would tell whether it is a failed upgrade'
            : '')
        : f.failingSmoke.length > 0
          ? 'the failing smoke checks are explained by the matched rules'
          : 'no smoke check fails',
    evidence: smokeItems(s).filter((e) => e.ok === false),
  });
  rules.push({
    id: 'conflict.healthz_error',
    matched: f.hz === 'error' && !matched.has('upgrade') && !matched.has('event-log'),
    because:
      f.hz === 'error'
        ? `healthz answered ${s.healthz.evidence.status ?? 'without a status'} instead of 200 with a valid body, ` +
          'which no scenario of the runbook describes on its own'
        : 'healthz answered as DecisionGraph does',
    evidence: healthzEvidence(s, f).slice(0, 1),
  });
  return rules;
}

function coverageRule(s: ProbeSweep, f: Facts): DiagnosisRule {
  const missing: string[] = [];
  if (f.ph === null) missing.push('projection health');
  if (integrityChecks(s).length === 0) missing.push('the SQL integrity checks');
  if (!f.sqlUp) missing.push('SQL reach');
  return {
    id: 'coverage.incomplete',
    matched: missing.length > 0,
    because:
      missing.length > 0
        ? `not measured: ${missing.join(', ')}, so "healthy" cannot be claimed`
        : 'healthz, projection health, SQL reach and the integrity checks were all measured',
    evidence: [],
  };
}

function names(list: readonly ScenarioName[]): string {
  return list.map((n) => `${n} (${SCENARIO_TITLES[n]})`).join(', ');
}

/**
 * Matches the measurements of a read-only probe sweep against the runbook's symptoms. Pure and deterministic:
 * every rule is evaluated and returned. The event log's rules win over everything (the runbook's first
 * priority); a contradiction or two scenarios that exclude each other give `unclear`, never a pick.
 */
export function diagnose(sweep: ProbeSweep): Diagnosis {
  const f = gatherFacts(sweep);
  const eventLog = [
    integrityRule(sweep, f, 'event_log.payload_hash_drift', ['payload_hash_drift'], 'payload hash drift'),
    integrityRule(sweep, f, 'event_log.impossible_ordering', ORDERING_CHECKS, 'impossible trace ordering'),
    integrityRule(sweep, f, 'event_log.events_after_finish', ['events_after_finish'], 'events after TraceFinished'),
    integrityRule(sweep, f, 'event_log.cursor_ahead', ['cursor_ahead'], 'projection cursor ahead of the event tail'),
    parityRule(sweep),
  ];
  const scenarioRules = [
    ...eventLog,
    ...reachabilityRules(sweep, f),
    upgradeRule(sweep, f),
    ...projectionRules(sweep, f),
  ];
  const matched = new Set(scenarioRules.filter((r) => r.matched && r.scenario).map((r) => r.scenario as ScenarioName));
  const stale = scenarioRules.some((r) => r.id === 'projections.stale' && r.matched);
  const conflicts = conflictRules(sweep, f, matched, stale);
  const coverage = coverageRule(sweep, f);
  const rules = [...scenarioRules, ...conflicts, coverage];
  const candidates = PRIORITY.filter((n) => matched.has(n));
  const because = (scenario: ScenarioName) =>
    scenarioRules
      .filter((r) => r.matched && r.scenario === scenario)
      .map((r) => r.because)
      .join('; ');
  const also = (chosen: ScenarioName) => {
    const others = candidates.filter((c) => c !== chosen);
    return others.length > 0
      ? ` Also seen, and handled within it or after it: ${others.map((o) => `${o}: ${because(o)}`).join('; ')}.`
      : '';
  };
  const conflict = (id: string) => conflicts.find((r) => r.id === id && r.matched);
  const pick = (scenario: ScenarioName, why: string): Diagnosis => ({
    verdict: 'scenario',
    scenario,
    confidence: 'rule-matched',
    candidates,
    rules,
    explanation:
      `Fits scenario ${scenario} (${SCENARIO_TITLES[scenario]}): ${because(scenario)}.${why}${also(scenario)} ` +
      'This is advice from fixed rules; a person decides whether to start the recovery.',
  });
  const unclear = (text: string): Diagnosis => ({
    verdict: 'unclear',
    confidence: 'rule-matched',
    candidates,
    rules,
    explanation: `No scenario can be recommended: ${text} Look at the rules and their evidence before acting.`,
  });

  if (matched.has('event-log')) {
    return pick('event-log', ' The event log is the source of truth and the runbook protects it first.');
  }
  const sqlConflict = conflict('conflict.sql_unreachable_but_runtime_connected');
  if (sqlConflict) return unclear(`${sqlConflict.because}.`);
  if (matched.has('postgres')) {
    return pick(
      'postgres',
      ' The runbook restores Postgres first; the scenario restarts the runtime if it does not reconnect.',
    );
  }
  if (matched.has('restart') && matched.has('upgrade')) {
    return unclear(
      `two scenarios fit and they call for different actions: ${names(['restart', 'upgrade'])}. ` +
        `Restart: ${because('restart')}. Upgrade: ${because('upgrade')}. Restarting may bring back a release that fails; rolling back ` +
        'replaces it.',
    );
  }
  if (matched.has('restart')) return pick('restart', '');
  if (matched.has('upgrade')) {
    return pick(
      'upgrade',
      matched.has('projections')
        ? " Projection regressions right after an upgrade are among the runbook's symptoms of a failed upgrade."
        : '',
    );
  }
  const smokeConflict = conflict('conflict.smoke_unexplained');
  const healthzConflict = conflict('conflict.healthz_error');
  if (matched.has('projections')) {
    if (smokeConflict) {
      return unclear(`projection symptoms were found (${because('projections')}), but ${smokeConflict.because}.`);
    }
    return pick('projections', '');
  }
  if (healthzConflict) return unclear(`${healthzConflict.because}.`);
  if (smokeConflict) return unclear(`${smokeConflict.because}.`);
  if (coverage.matched) return unclear(`no rule matched, but ${coverage.because}.`);
  const smoke =
    sweep.smoke && sweep.smoke.checks.length > 0
      ? `, all ${plural(sweep.smoke.checks.length, 'smoke check')} pass`
      : '';
  return {
    verdict: 'healthy',
    confidence: 'rule-matched',
    candidates,
    rules,
    explanation:
      `No symptom of any runbook scenario: healthz is up with its database connected, Postgres answers SQL, ` +
      `projections are current with no open failures or orphaned runs, the integrity checks find nothing${smoke}.` +
      (sweep.smoke === undefined ? ' Smoke checks were not run.' : '') +
      (sweep.parity?.reference === undefined ? ' No parity reference was known.' : ''),
  };
}
