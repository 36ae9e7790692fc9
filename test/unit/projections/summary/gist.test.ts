import { describe, expect, it } from 'vitest';
import { buildIncidentSummary, summaryGist } from '../../../../src/projections/summary/index.js';
import { RUNS } from './runs.js';

const gistOf = (run: ReturnType<(typeof RUNS)['restart']['recovered']>) =>
  summaryGist(buildIncidentSummary(run.events, run.scenario));
const plain = (line: ReturnType<typeof gistOf>['line']) =>
  line.map((p) => (typeof p === 'string' ? p : `\`${p.code}\``)).join('');

describe('the gist of an incident summary', () => {
  it('a recovered run: how many steps passed, who decided what; when it was healthy', () => {
    const g = gistOf(RUNS.postgres.recovered());
    expect(g).toMatchObject({ outcome: 'recovered', openManualActions: [], followUps: 0 });
    expect(g.timeToHealthyMs).toBe(g.durationMs);
    expect(plain(g.line)).toBe('11 of 16 steps passed; decided: Restart the runtime (Ana Ops)');
  });

  it('a failed run: the checklist conditions not met, and the duties people still have', () => {
    const g = gistOf(RUNS.postgres.failed());
    expect(g.timeToHealthyMs).toBeNull();
    expect(plain(g.line)).toMatch(/^Checklist not met: `projection_stale`, `pending_events`, `trace_unreadable`; /);
    expect(g.openManualActions.map((m) => m.id)).toEqual(['service_accounts']);
    expect(g.followUps).toBeGreaterThan(0);
  });

  it('a run failed at a step: the step and its error code', () => {
    expect(plain(gistOf(RUNS.projections.failed()).line)).toMatch(
      /^Failed at "Request the rebuild": `rebuild_forbidden` this deployment forbids/,
    );
  });

  it('an aborted run: who, where, why', () => {
    expect(plain(gistOf(RUNS.restart.aborted()).line)).toBe(
      'Aborted by Ana Ops at "Restart the DecisionGraph runtime": the hypervisor team is migrating the VM and ' +
        'restarts it themselves',
    );
  });

  it('a run still going: the step it is at', () => {
    const run = RUNS.restart.recovered();
    const live = run.events.slice(0, 8);
    const g = summaryGist(buildIncidentSummary(live, run.scenario));
    expect(g.outcome).toBe('in_progress');
    expect(plain(g.line)).toMatch(/^(At step \d+ of 16: "|\d+ of 16 steps passed)/);
  });
});
