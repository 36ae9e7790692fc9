import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/errors.js';
import {
  buildIncidentSummary,
  type IncidentSummary,
  mdCode,
  mdText,
  renderSummaryBlocks,
  renderSummaryMarkdown,
} from '../../../../src/projections/summary/index.js';
import { getScenario, loadScenarios, type RunEvent } from '../../../../src/runbook/index.js';
import { BLOCK_LIMITS } from '../../../../src/slack/blocks/limits.js';
import { assertWithinLimits } from '../../../../src/slack/blocks/validate.js';
import { World } from '../../../helpers/engine-world.js';
import { drive } from './drive.js';
import { RUNS } from './runs.js';

const CATALOG = [...loadScenarios().values()];
const summarize = (events: readonly RunEvent[]) => buildIncidentSummary(events, CATALOG);

function manual(s: IncidentSummary, id: string) {
  const found = s.manualActions.find((m) => m.id === id);
  if (!found) throw new Error(`no manual action ${id}`);
  return found;
}

/** Every string in the events, `reason`, `note` and `value` fields replaced (what a person typed). */
function retype(events: readonly RunEvent[], text: string): RunEvent[] {
  return events.map((e) => {
    const copy = { ...e } as Record<string, unknown>;
    for (const key of ['reason', 'note', 'value']) {
      if (typeof copy[key] === 'string' && e.type !== 'run_finished') copy[key] = text;
    }
    return copy as unknown as RunEvent;
  });
}

/** The same event with its object keys in reverse order, as a `jsonb` round trip may hand them back. */
function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .reverse()
      .map(([k, v]) => [k, reorderKeys(v)]),
  );
}

describe('buildIncidentSummary', () => {
  it('gives the same text for the same events, shuffled or with keys reordered by the journal', () => {
    const run = RUNS['event-log'].recovered();
    const first = renderSummaryMarkdown(summarize(run.events));
    expect(renderSummaryMarkdown(summarize(run.events))).toBe(first);
    expect(renderSummaryMarkdown(buildIncidentSummary(run.events, loadScenarios()))).toBe(first);
    expect(renderSummaryMarkdown(buildIncidentSummary(run.events, getScenario('event-log')))).toBe(first);
    const shuffled = [...run.events].reverse();
    expect(renderSummaryMarkdown(summarize(shuffled))).toBe(first);
    const reordered = run.events.map((e) => reorderKeys(e) as RunEvent);
    expect(renderSummaryMarkdown(summarize(reordered))).toBe(first);
    expect(JSON.stringify(renderSummaryBlocks(summarize(reordered)))).toBe(
      JSON.stringify(renderSummaryBlocks(summarize(run.events))),
    );
  });

  it('times the run from its events: duration, first reachable, and healthy when the checklist passed', () => {
    const run = RUNS.restart.recovered();
    const s = summarize(run.events);
    const gatePassed = run.events.find((e) => e.type === 'step_passed' && e.stepId === 'gate');
    const healthzUp = run.events.find((e) => e.type === 'step_passed' && e.stepId === 'wait_healthz');
    expect(s.times.startedAt).toBe('2026-03-07T12:00:00.000Z');
    expect(s.times.healthyAt).toBe(gatePassed?.at);
    expect(s.times.reachableAt).toBe(healthzUp?.at);
    expect(s.times.timeToHealthyMs).toBe(Date.parse(gatePassed?.at ?? '') - Date.parse(s.times.startedAt));
    expect(s.times.durationMs).toBe(Date.parse(s.times.endedAt ?? '') - Date.parse(s.times.startedAt));
    expect(s.finalHealth).toMatchObject({ checked: true, passed: true, stepId: 'gate', failing: [] });
  });

  it('records each decision with who, when, the option, the reason, what was recommended and what they saw', () => {
    const s = summarize(RUNS.restart.recovered().events);
    const orphan = s.decisions.find((d) => d.stepId === 'orphan_runs');
    expect(orphan).toMatchObject({
      item: { id: 'replay-5790' },
      optionId: 'ignore',
      optionLabel: 'Ignore it',
      by: { id: 'U04ANA', name: 'Ana Ops' },
      reason: 'cut off by the 09:41 crash; the catch_up below covers it',
      followedRecommendation: false,
      recommendedLabel: 'Retry: start a fresh catch_up',
      waitedMs: 47_000,
    });
    expect(orphan?.saw.map((e) => e.label)).toContain('open replay runs (queued or running)');
    expect(manual(s, 'orphaned_runs')).toMatchObject({ status: 'decided', items: [{ decision: 'Ignore it' }] });
    expect(s.followUps.map((f) => f.id)).toEqual(['orphans_ignored']);
  });

  it('keeps a voided approval and the round that replaced it, with what each approver saw', () => {
    const s = summarize(RUNS['event-log'].recovered().events);
    const restore = s.approvals.filter((a) => a.guards === 'restore_backup');
    expect(restore.map((a) => [a.round, a.outcome])).toEqual([
      [1, 'voided'],
      [2, 'granted'],
    ]);
    expect(restore[0]?.voided?.reason).toMatch(/has changed \(artifacts\)/);
    expect(restore[1]).toMatchObject({ grantedBy: { id: 'U07BO' }, excluded: ['U04ANA'] });
    expect(restore[1]?.saw.find((e) => e.label === 'backup artifacts found')?.measured).toBe(4);
  });

  it('tells host actions apart by means: command, webhook, and by hand with the note', () => {
    const eventLog = summarize(RUNS['event-log'].recovered().events);
    const means = Object.fromEntries(eventLog.hostActions.map((h) => [h.action, [h.means, h.outcome]]));
    expect(means).toMatchObject({
      stop_writes: ['webhook', 'done'],
      preserve_database: ['command', 'done'],
      restore_backup: ['command', 'done'],
      manual: ['by hand', 'done'],
    });
    expect(eventLog.hostActions.find((h) => h.action === 'restore_backup')?.chosen).toBe('artifact nightly-0307');
    const postgres = summarize(RUNS.postgres.recovered().events);
    expect(postgres.hostActions[0]).toMatchObject({
      action: 'restore_postgres',
      means: 'by hand',
      by: { id: 'U04ANA' },
      note: 'failed over to the standby pg-2 (patroni switchover)',
    });
  });

  it('lists what is left: the preserved database, events not restored, a disabled rebuild', () => {
    const s = summarize(RUNS['event-log'].failed().events);
    expect(s.followUps.map((f) => f.id)).toEqual([
      'preserved_database',
      'events_not_restored',
      'rebuild_disabled',
      'checklist_failing',
    ]);
    expect(renderSummaryMarkdown(s)).toContain('- [ ] Rebuild disabled in this deployment (DecisionGraph answered 403');
    expect(s.finalHealth.passed).toBe(false);
    expect(s.finalHealth.failing.map((f) => f.condition)).toEqual(['cursor_ahead']);
    expect(manual(s, 'semantic_or_transient').items.map((i) => i.decision)).toEqual([
      'Rebuild all projections',
      'Run a catch_up replay instead',
    ]);
  });

  it('reminds of service-account upkeep only when DecisionGraph refused the bot', () => {
    const refused = summarize(RUNS.postgres.failed().events);
    expect(manual(refused, 'service_accounts')).toMatchObject({ status: 'reminder' });
    expect(manual(refused, 'service_accounts').items).toHaveLength(1);
    // A 403 for a rebuild the deployment forbids is a switch, not an account problem.
    expect(manual(summarize(RUNS.projections.failed().events), 'service_accounts').status).toBe('not_needed');
  });

  it('says what an abort left open: the unconfirmed manual action and the steps not run', () => {
    const s = summarize(RUNS.restart.aborted().events);
    expect(s.outcome).toBe('aborted');
    expect(s.abort).toMatchObject({ by: { id: 'U04ANA' }, stepId: 'restart_runtime' });
    expect(s.hostActions[0]).toMatchObject({ means: 'by hand', outcome: 'not confirmed' });
    expect(s.followUps.map((f) => f.id)).toEqual(['unconfirmed_action', 'aborted']);
    expect(s.steps.find((x) => x.id === 'restart_runtime')?.outcome).toBe('interrupted');
    expect(s.steps.filter((x) => x.outcome === 'not_reached')).toHaveLength(11);
    expect(s.finalHealth).toMatchObject({ checked: false, passed: null });
  });

  it('ends a switched run with the scenario to start next', () => {
    const w = new World();
    w.postgresUp = false;
    w.connected = false;
    const s = summarize(drive(w, 'restart').events);
    expect(s).toMatchObject({ outcome: 'switched', switchTo: 'postgres' });
    expect(s.followUps.map((f) => f.id)).toEqual(['switched']);
    expect(s.finalHealth.note).toEqual(['The run ended before the recovery checklist.']);
    expect(renderSummaryMarkdown(s)).toContain('- Switched to: `postgres`');
  });

  it('summarises a run still in progress from the events so far', () => {
    const run = RUNS.projections.aborted();
    const upToApproval = run.events.slice(0, run.events.findIndex((e) => e.type === 'approval_requested') + 1);
    const s = summarize(upToApproval);
    expect(s.outcome).toBe('in_progress');
    expect(s.times.endedAt).toBeNull();
    expect(s.approvals.at(-1)?.outcome).toBe('open');
    expect(s.followUps.map((f) => f.id)).toEqual(['approval_pending']);
    expect(renderSummaryMarkdown(s)).toContain('- Ended: not yet (last event 2026-03-07 12:');
  });

  it('falls back to step ids when the scenario definition is not available', () => {
    const run = RUNS.postgres.aborted();
    const s = buildIncidentSummary(run.events, getScenario('restart'));
    expect(s.scenario).toMatchObject({ name: 'postgres', title: 'postgres', known: false });
    expect(s.steps.map((x) => x.title)).toContain('check_sql');
    expect(s.steps.every((x) => x.kind === 'unknown')).toBe(true);
    expect(renderSummaryMarkdown(s)).toContain('not in the scenario definition');
  });

  it('refuses a log with a gap, with the fold error code', () => {
    const run = RUNS.postgres.aborted();
    const gap = run.events.filter((e) => e.seq !== 3);
    expect(() => summarize(gap)).toThrow(expect.objectContaining({ code: ErrorCode.RunLogOutOfOrder }));
  });
});

describe('renderers', () => {
  const hostile =
    'ok <!channel> <@U999|boss> *bold* _it_ `tick` [x](https://evil.example) | pipe &amp;\n## injected heading';

  it('escapes what people typed in Markdown: no heading, link, mention or table break of its own', () => {
    const run = RUNS.projections.recovered();
    const md = renderSummaryMarkdown(summarize(retype(run.events, hostile)));
    expect(md).not.toMatch(/^## injected/m);
    expect(md).not.toMatch(/[^\\]<!channel>/);
    expect(md).not.toMatch(/[^\\]\[x\]\(https/);
    expect(md).toContain(
      'ok \\<!channel\\> \\<@U999\\|boss\\> \\*bold\\* \\_it\\_ \\`tick\\` \\[x\\](https://evil.example) \\| pipe \\&amp; ## injected heading',
    );
    expect(mdCode('a `b` c')).toBe('`` a `b` c ``');
    expect(mdText('snake_case _lead trail_')).toBe('snake_case \\_lead trail\\_');
  });

  it('escapes what people typed in Slack: no @channel, mention or link reaches the blocks', () => {
    const run = RUNS.projections.recovered();
    const message = renderSummaryBlocks(summarize(retype(run.events, hostile)));
    const all = JSON.stringify(message);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U999');
    expect(all).toContain('&lt;!channel&gt;');
    expect(assertWithinLimits(message)).toEqual([]);
  });

  it('stays within Block Kit limits with 500-character reasons and notes everywhere', () => {
    const long = `${'&<>'.repeat(40)}${'long reason '.repeat(40)}`.slice(0, 500);
    for (const name of ['event-log', 'projections', 'upgrade'] as const) {
      for (const kind of ['recovered', 'failed', 'aborted'] as const) {
        const message = renderSummaryBlocks(summarize(retype(RUNS[name][kind]().events, long)));
        expect(assertWithinLimits(message), `${name} ${kind}`).toEqual([]);
        expect(message.blocks.length).toBeLessThanOrEqual(BLOCK_LIMITS.messageBlocks);
      }
    }
  });

  it('puts the outcome, the run and the scenario in the notification text', () => {
    const message = renderSummaryBlocks(summarize(RUNS.upgrade.recovered().events));
    expect(message.text).toMatch(
      /^Incident summary: Failed upgrade \(rollback\) run `run-upgrade` recovered after \d+ min \d+ s$/,
    );
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
  });

  it('writes every section the incident record needs', () => {
    const md = renderSummaryMarkdown(summarize(RUNS.upgrade.failed().events));
    for (const heading of [
      '## Overview',
      '## Impact',
      '## Timeline (UTC, 2026-03-07)',
      '## Decisions',
      '## Approvals',
      '## Follow-ups',
      '## Root cause',
      '## Lessons',
      '## Details',
      '### Steps and their evidence',
      '### Host actions',
      '### Manual actions the runbook leaves to people',
      '### Final health (recovery checklist)',
      '### Event log',
    ]) {
      expect(md).toContain(`\n${heading}\n`);
    }
    expect(md.endsWith('\n')).toBe(true);
  });
});
