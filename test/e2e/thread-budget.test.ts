import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../sim/index.js';
import type { RunState } from '../../src/runbook/index.js';
import type { StoredMessage } from '../helpers/fake-slack.js';
import { ANA, buttons, E2E, textOf } from './harness.js';
import { walkThread } from './walk-thread.js';

// Every scenario from Slack to its end, read as the on-call engineer reads it on a phone: how many messages the
// thread holds, how many characters a person scrolls through, and whether the thread says honestly what it saw.

const RUN_TIMEOUT_MS = 120_000;

let e2e: E2E | undefined;

afterEach(async () => {
  await e2e?.close();
  e2e = undefined;
});

/** The words a person sees in a message: every `text` of its blocks (sections, fields, context, buttons). */
function visibleText(node: unknown): string {
  if (Array.isArray(node)) return node.map(visibleText).join('');
  if (node === null || typeof node !== 'object') return '';
  const record = node as Record<string, unknown>;
  let out = typeof record.text === 'string' ? record.text : '';
  for (const [key, child] of Object.entries(record)) {
    if (key !== 'confirm' && typeof child === 'object') out += visibleText(child);
  }
  return out;
}

function blocksOf(message: StoredMessage): Array<{ block_id?: string; text?: { text?: string } }> {
  return (message.blocks ?? []) as Array<{ block_id?: string; text?: { text?: string } }>;
}

interface Case {
  readonly scenario: string;
  readonly sim: SimulatorOptions;
  /** A fault injected once the bot is up (it would keep the harness from setting up its reader role). */
  readonly inject?: 'postgres-down';
  readonly maxMessages: number;
  /** Half the visible characters the same run's thread took when every step had a message of its own. */
  readonly maxChars: number;
  /** What the first step confirms. */
  readonly confirmed: string;
  readonly backups?: boolean;
}

const CASES: readonly Case[] = [
  {
    scenario: 'restart',
    sim: { faults: ['node-down'] },
    maxMessages: 10,
    maxChars: 9235 / 2,
    confirmed: 'healthz does not answer',
  },
  {
    scenario: 'postgres',
    sim: {},
    inject: 'postgres-down',
    maxMessages: 10,
    maxChars: 9911 / 2,
    confirmed: 'Postgres does not answer SQL',
  },
  {
    scenario: 'projections',
    sim: { faults: ['projections-behind'] },
    maxMessages: 10,
    maxChars: 11_844 / 2,
    confirmed: 'projections are behind or failing',
  },
  {
    scenario: 'upgrade',
    sim: { faults: ['failed-upgrade'] },
    maxMessages: 12,
    maxChars: 18_697 / 2,
    confirmed: 'smoke checks fail after the upgrade',
    backups: true,
  },
  {
    scenario: 'event-log',
    sim: { faults: ['hash-drift'] },
    maxMessages: 16,
    maxChars: 25_330 / 2,
    confirmed: 'the event log is damaged',
    backups: true,
  },
];

/** `label · 3 h before the run · 368.0 KiB`; the run's own copy is `… · 40 s into the run · …`. */
const BACKUP_OPTION =
  / · (just before the run|as the run started|\d+ (s|min|h|days) (before|into) the run) · \d+(\.\d)? (B|KiB|MiB|GiB|TiB)$/;

/** The backup buttons as first offered, in order, and all the message said then (the answer folds it away). */
function offeredBackups(world: E2E, runId: string): { offered: string[]; said: string } {
  for (const call of [...world.fake.calls('chat.postMessage'), ...world.fake.calls('chat.update')]) {
    const blocks = (call.params as { blocks?: unknown[] }).blocks;
    const offered = buttons({ blocks } as StoredMessage).filter((b) => b.value?.startsWith(`${runId}|choose_backup|`));
    if (offered.length > 0) return { offered: offered.map((b) => b.text), said: visibleText(blocks ?? []) };
  }
  return { offered: [], said: '' };
}

function countsOf(state: RunState): string {
  const statuses = Object.values(state.steps).map((s) => s.status);
  const n = (status: string) => statuses.filter((s) => s === status).length;
  return `${n('passed')} passed, ${n('skipped')} skipped`;
}

describe('the thread of every scenario, from Slack to its end', () => {
  it.each(CASES)(
    '$scenario: within its budget, no message for a skipped step, the symptom confirmed, counts that agree',
    async (c) => {
      const world = await E2E.start({ sim: c.sim });
      e2e = world;
      if (c.inject) await world.sim.inject(c.inject);
      const started = await world.command(ANA, `recover ${c.scenario}`);
      const runId = await world.startedRunId(started.responseId);
      const walk = await walkThread(world, runId);
      expect(walk.pausedAt).toBeUndefined();
      const state = await world.runFinished(runId, 60_000);
      expect(state.outcome?.outcome).toBe('recovered');
      await world.until(() => world.messages(runId).some((m) => m.text?.startsWith('Incident summary')), 'the summary');

      const messages = world.messages(runId);
      const chars = messages.reduce((n, m) => n + visibleText(m.blocks ?? []).length, 0);
      expect(messages.length).toBeLessThanOrEqual(c.maxMessages);
      expect(chars).toBeLessThanOrEqual(c.maxChars);

      // Steps skipped without running have no message and no line; the header lists them.
      const skipped = Object.entries(state.steps).filter(([, s]) => s.status === 'skipped' && s.attempt === 0);
      expect(skipped.length).toBeGreaterThan(0);
      const blockIds = new Set(messages.flatMap((m) => blocksOf(m).map((b) => b.block_id)));
      expect(skipped.map(([id]) => id).filter((id) => blockIds.has(`st-${id}`) || blockIds.has(`skip-${id}`))).toEqual(
        [],
      );
      const [header] = messages;
      expect(textOf(header)).toContain('Not needed, skipped without running: steps ');

      // A step that found the symptom says so, and nothing under a pass carries a failure mark.
      const thread = messages.filter((m) => !m.text?.startsWith('Incident summary'));
      const all = thread.map(textOf).join('\n');
      expect(all).toContain(`*Confirmed:* ${c.confirmed}`);
      expect(all).not.toContain(':x:');
      // What was called (SQL, request ids) is in the run log and the summary file, not in the thread.
      expect(all).not.toContain('request_id');
      expect(all).not.toContain('SQL `');

      // The header and the result count the steps in the same words.
      const counts = countsOf(state);
      expect(textOf(header)).toContain(counts);
      expect(textOf(thread.find((m) => m.text?.startsWith(`Recovery run ${runId} recovered`)))).toContain(counts);

      if (c.backups) {
        // Recommended first, every backup with its age against the run and its size.
        const { offered, said } = offeredBackups(world, runId);
        const listed = offered.filter((text) => BACKUP_OPTION.test(text));
        expect(listed.length).toBeGreaterThan(0);
        expect(offered[0]).toMatch(/^★ /);
        expect(offered[0]).toMatch(BACKUP_OPTION);
        // Each backup is named once, on its button.
        const label = offered[0]?.slice('★ '.length) ?? '';
        expect(said.split(label).length - 1).toBe(1);
        if (c.scenario === 'event-log') {
          // The broken copy this run preserved comes last of the backups, marked and never recommended.
          expect(listed.at(-1)).toMatch(/^the broken copy preserved by this run · /);
        }
      }
      world.expectEverythingWithinLimits();
    },
    RUN_TIMEOUT_MS,
  );
});
