import { describe, expect, it } from 'vitest';
import { buildIncidentSummary } from '../../../../src/projections/summary/index.js';
import { impactLines, plainTimeline } from '../../../../src/projections/summary/postmortem.js';
import { loadScenarios } from '../../../../src/runbook/index.js';
import { RUNS } from './runs.js';

const CATALOG = [...loadScenarios().values()];
const text = (parts: readonly (string | { code: string })[]) =>
  parts.map((p) => (typeof p === 'string' ? p : p.code)).join('');

describe('the postmortem draft', () => {
  it('tells the run in a few wall-clock moments, in order, not every machine event', () => {
    const events = RUNS.restart.recovered().events;
    const moments = plainTimeline(buildIncidentSummary(events, CATALOG));
    const lines = moments.map((m) => text(m.text));
    expect(lines[0]).toBe('Recovery run started by Ana Ops (U04ANA) (scenario restart)');
    expect(lines.at(-1)).toBe('Run ended: recovered');
    expect(lines).toContain('Restart the DecisionGraph runtime: done');
    expect(lines).toContain('Recovery checklist passed: healthy');
    expect(lines.filter((l) => l.includes('decided'))).toHaveLength(2);
    expect(lines.some((l) => l.endsWith(': started'))).toBe(false);
    expect(moments.length).toBeLessThan(events.length / 3);
    const times = moments.map((m) => Date.parse(m.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('says an abort chosen at a decision once', () => {
    const lines = plainTimeline(buildIncidentSummary(RUNS.postgres.aborted().events, CATALOG)).map((m) => text(m.text));
    expect(lines.filter((l) => l.includes('false alarm'))).toHaveLength(1);
    expect(lines.at(-1)).toBe('Run ended: aborted');
  });

  it('counts the events a restore left behind as lost', () => {
    const impact = impactLines(buildIncidentSummary(RUNS['event-log'].recovered().events, CATALOG)).map(text);
    expect(impact[2]).toContain('68 event(s) appended after the backup was taken are not in the restored log');
    const calm = impactLines(buildIncidentSummary(RUNS.restart.recovered().events, CATALOG)).map(text);
    expect(calm[2]).toBe('Events at risk or lost: none measured by the run.');
  });
});
