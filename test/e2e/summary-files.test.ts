import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../sim/index.js';
import { ANA, BO, E2E } from './harness.js';
import { expectReadablePng, uploadedSummary } from './summary-files.js';
import { walkThread } from './walk-thread.js';

// Every scenario, started and clicked through from Slack to its end, leaves the postmortem draft, the run export
// and the chart in its thread, as Slack's three-step upload received them.

const RUN_TIMEOUT_MS = 120_000;

// Postgres goes down once the bot has started (it creates its reader role in DecisionGraph's database first).
const SCENARIOS: readonly { scenario: string; sim: SimulatorOptions; after?: 'postgres-down' }[] = [
  { scenario: 'restart', sim: { faults: ['node-down', 'projections-behind'] } },
  { scenario: 'postgres', sim: {}, after: 'postgres-down' },
  { scenario: 'projections', sim: { faults: ['projections-behind'] } },
  { scenario: 'event-log', sim: { faults: ['hash-drift'] } },
  { scenario: 'upgrade', sim: { faults: ['failed-upgrade'] } },
];

let e2e: E2E | undefined;

afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

describe('the summary files of each scenario', () => {
  it.each(SCENARIOS)(
    '$scenario: the postmortem draft, the run export and the chart',
    async ({ scenario, sim, after }) => {
      e2e = await E2E.start({ sim });
      if (after) await e2e.sim.inject(after);
      const started = await e2e.command(ANA, `recover ${scenario}`);
      const runId = await e2e.startedRunId(started.responseId);
      const walk = await walkThread(e2e, runId);
      expect(walk.pausedAt).toBeUndefined();

      const { markdown, exported, png } = await uploadedSummary(e2e, runId);
      expect(markdown).toMatch(/^# Postmortem draft: /);
      for (const heading of ['## Impact', '## Timeline (UTC', '## Follow-ups', '## Root cause', '## Details']) {
        expect(markdown).toContain(`\n${heading}`);
      }
      expect(exported).toMatchObject({ version: 1, runId, scenario: { name: scenario } });
      const run = await e2e.bot.runtime.service.get(runId);
      expect(exported.timeline.map((t) => t.seq)).toEqual(run?.events.map((e) => e.seq));
      expect(exported.evidence.length).toBeGreaterThan(0);
      // Each decision in the export is one of Bo's clicks, with Bo as who made it.
      expect(walk.clicks).toEqual(expect.arrayContaining(exported.decisions.map((d) => `${d.stepId}:${d.optionId}`)));
      expect(exported.decisions.every((d) => d.by.id === BO.id)).toBe(true);
      expectReadablePng(png);
    },
    RUN_TIMEOUT_MS,
  );
});
