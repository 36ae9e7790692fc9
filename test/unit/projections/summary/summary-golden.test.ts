import { describe, expect, it } from 'vitest';
import {
  buildIncidentSummary,
  renderSummaryBlocks,
  renderSummaryMarkdown,
} from '../../../../src/projections/summary/index.js';
import { loadScenarios, SCENARIO_NAMES } from '../../../../src/runbook/index.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { World } from '../../../helpers/engine-world.js';
import { expectGolden } from './golden.js';
import { interruptedEventLog } from './mishaps.js';
import { RUNS, type RunKind } from './runs.js';

// The incident summary of each scenario's recovered, failed and aborted run, compared with its golden Markdown.

const KINDS: readonly RunKind[] = ['recovered', 'failed', 'aborted'];

describe('incident summary golden files', () => {
  for (const name of SCENARIO_NAMES) {
    for (const kind of KINDS) {
      it(`${name} ${kind}`, () => {
        const run = RUNS[name][kind]();
        expect(run.state.outcome?.outcome).toBe(kind);
        const summary = buildIncidentSummary(run.events, [...loadScenarios().values()]);
        expect(summary.outcome).toBe(kind);
        expectGolden(`${name}-${kind}`, renderSummaryMarkdown(summary));
        expect(assertWithinLimits(renderSummaryBlocks(summary))).toEqual([]);
      });
    }
  }

  it('event-log recovered after an interrupted host action and an approval nobody gave in time', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const run = interruptedEventLog(w);
    expect(run.state.outcome?.outcome).toBe('recovered');
    const summary = buildIncidentSummary(run.events, [...loadScenarios().values()]);
    expectGolden('event-log-interrupted', renderSummaryMarkdown(summary));
    expect(assertWithinLimits(renderSummaryBlocks(summary))).toEqual([]);
  });
});
