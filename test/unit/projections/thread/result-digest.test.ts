import { describe, expect, it } from 'vitest';
import {
  incidentSummaryMessage,
  RESULT_KEY,
  renderThread,
  SUMMARY_KEY,
} from '../../../../src/projections/thread/index.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { RUNS } from '../summary/runs.js';

// The result each finished run announces in the channel: the outcome, and the digest an on-call channel wants
// (duration, time to healthy, manual actions left open, one sentence), not the whole summary.

function result(run: ReturnType<(typeof RUNS)['restart']['recovered']>) {
  const messages = renderThread(run.events, run.scenario, { defaultChannel: 'C0INC', summary: incidentSummaryMessage });
  const message = messages.find((m) => m.key === RESULT_KEY);
  if (!message) throw new Error('no result message');
  return { message, messages, shown: JSON.stringify(message.blocks) };
}

describe('the result broadcast to the channel', () => {
  it('carries the outcome, duration, time to healthy and the gist, and points to the thread', () => {
    const { message, shown } = result(RUNS.postgres.recovered());
    expect(message.broadcast).toBe(true);
    expect(message.text).toMatch(/^Recovery run run-[a-z0-9]+ recovered after 5 min 37 s$/);
    expect(shown).toContain('*Duration*\\n5 min 37 s');
    expect(shown).toContain('*Time to healthy*\\n5 min 37 s');
    expect(shown).toContain('*Open manual actions*\\nNone');
    expect(shown).toContain('11 of 16 steps passed; decided: Restart the runtime (Ana Ops)');
    expect(shown).toContain('follow in the thread');
    expect(assertWithinLimits(message)).toEqual([]);
  });

  it('names the manual actions people still owe after a failed run, and says it never got healthy', () => {
    const { shown } = result(RUNS.postgres.failed());
    expect(shown).toContain(':x: Failed');
    expect(shown).toContain('*Time to healthy*\\nnot healthy');
    expect(shown).toContain('• Maintaining and testing the service-account configuration');
    expect(shown).toMatch(/\d+ follow-ups/);
  });

  it('is short: a few blocks, far from a wall of text, while the summary below it has the rest', () => {
    for (const [name, kinds] of Object.entries(RUNS)) {
      for (const make of Object.values(kinds)) {
        const { message, messages } = result(make());
        expect(message.blocks.length, name).toBeLessThanOrEqual(3);
        expect(JSON.stringify(message.blocks).length, name).toBeLessThan(2500);
        expect(assertWithinLimits(message), name).toEqual([]);
        // The summary still follows it in the thread, not in the channel.
        const summary = messages.find((m) => m.key === SUMMARY_KEY);
        expect(summary?.broadcast ?? false).toBe(false);
        expect(messages.indexOf(summary as (typeof messages)[number])).toBeGreaterThan(messages.indexOf(message));
      }
    }
  });
});
