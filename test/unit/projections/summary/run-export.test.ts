import { describe, expect, it } from 'vitest';
import { buildIncidentSummary } from '../../../../src/projections/summary/index.js';
import {
  RUN_EXPORT_VERSION,
  RunExportSchema,
  renderRunExport,
} from '../../../../src/projections/summary/run-export.js';
import { loadScenarios } from '../../../../src/runbook/index.js';
import { RUNS } from './runs.js';

const CATALOG = [...loadScenarios().values()];

describe('run export', () => {
  it.each(Object.keys(RUNS) as (keyof typeof RUNS)[])('%s: parses with its schema and keeps every event', (name) => {
    const events = RUNS[name].recovered().events;
    const exported = RunExportSchema.parse(JSON.parse(renderRunExport(buildIncidentSummary(events, CATALOG))));
    expect(exported.version).toBe(RUN_EXPORT_VERSION);
    expect(exported.scenario.name).toBe(name);
    expect(exported.outcome).toBe('recovered');
    expect(exported.timeline.map((t) => t.seq)).toEqual(events.map((e) => e.seq));
    expect(exported.evidence.length).toBeGreaterThan(0);
    expect(exported.evidence.every((s) => s.items.length > 0)).toBe(true);
  });

  it('says who decided what and why', () => {
    const s = buildIncidentSummary(RUNS.restart.recovered().events, CATALOG);
    const exported = RunExportSchema.parse(JSON.parse(renderRunExport(s)));
    expect(exported.decisions[0]).toMatchObject({
      stepId: 'orphan_runs',
      item: 'replay-5790',
      option: 'Ignore it',
      by: { id: 'U04ANA', name: 'Ana Ops' },
      reason: 'cut off by the 09:41 crash; the catch_up below covers it',
      followedRecommendation: false,
    });
    expect(exported.followUps[0]).toMatchObject({ id: 'orphans_ignored', owner: null });
    // The raw evidence is there for tools: each check with its measured value.
    const checkProjections = exported.evidence.find((e) => e.stepId === 'check_projections');
    expect(checkProjections?.items.find((i) => i.label === 'trace_summary pending_events')?.measured).toBe(18);
  });

  it('refuses an export of another version', () => {
    const s = buildIncidentSummary(RUNS.restart.recovered().events, CATALOG);
    const other = { ...JSON.parse(renderRunExport(s)), version: RUN_EXPORT_VERSION + 1 };
    expect(RunExportSchema.safeParse(other).success).toBe(false);
  });
});
