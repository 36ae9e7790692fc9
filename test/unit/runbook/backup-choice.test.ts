import { describe, expect, it } from 'vitest';
import {
  type BackupArtifact,
  type ListBackupsMeasurement,
  PRESERVED_BY_RUN,
  runJudge,
  type Verdict,
} from '../../../src/runbook/index.js';
import { judgeContext } from '../../helpers/judge-context.js';
import { eventsOf, run, start, T0 } from './driver.js';
import { World } from './world.js';

// The event-log scenario preserves the broken database before it lists the backups: that copy is the newest
// artifact on the list, and restoring it would bring the damage back.

function listing(artifacts: BackupArtifact[]): ListBackupsMeasurement {
  return {
    mode: 'command',
    argv: ['list-backups'],
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 1,
    outputTail: '',
    artifacts,
  };
}

function artifact(id: string, createdAt: string, label: string): BackupArtifact {
  return { id, path: `/backups/${id}.dump`, created_at: createdAt, size_bytes: 1_073_741_824, label };
}

function judged(
  artifacts: BackupArtifact[],
  over: Record<string, unknown> = {},
): Extract<Verdict, { result: 'passed' }> {
  const v = runJudge(
    'backups.list',
    listing(artifacts),
    judgeContext('host.list_backups', { now: new Date('2026-03-07T13:00:00Z'), ...over }),
  );
  if (v.result !== 'passed') throw new Error(`not passed: ${v.result}`);
  return v;
}

const RUN = { runStartedAt: '2026-03-07T12:00:00.000Z', preservedSince: '2026-03-07T12:20:00.000Z' };

describe('choosing the backup to restore', () => {
  it('recognises the copy by the id its preserve step reported, even stamped before the run by a skewed clock', () => {
    const v = judged(
      [
        artifact('scheduled-0200', '2026-03-07T02:00:00Z', 'scheduled'),
        // The database host's clock is 40 minutes behind: the copy looks older than the run, newest of the "before".
        artifact('broken-run-1', '2026-03-07T11:40:00Z', 'broken before run-1'),
      ],
      { runStartedAt: RUN.runStartedAt, preservedCopy: { id: 'broken-run-1' } },
    );
    expect(v.outputs.preferred).toBe('scheduled-0200');
    // The recommended one first, the run's own copy last.
    expect(v.outputs.artifacts).toMatchObject([
      { id: 'scheduled-0200', display: 'scheduled · 10 h before the run · 1.0 GiB' },
      {
        id: 'broken-run-1',
        origin: 'preserved_by_run',
        display: `${PRESERVED_BY_RUN} · 20 min before the run · 1.0 GiB`,
      },
    ]);
  });

  it('recognises the copy by its path when the preserve step reported only that', () => {
    const v = judged([artifact('broken-run-1', '2026-03-07T11:40:00Z', 'nightly')], {
      runStartedAt: RUN.runStartedAt,
      preservedCopy: { path: '/backups/broken-run-1.dump' },
    });
    expect(v.outputs).not.toHaveProperty('preferred');
    expect(v.outputs.artifacts).toMatchObject([{ id: 'broken-run-1', origin: 'preserved_by_run' }]);
  });

  it('without a reported copy, takes what was made since the preserve step began for it, and says so', () => {
    const v = judged(
      [
        artifact('scheduled-0200', '2026-03-07T02:00:00Z', 'scheduled'),
        artifact('broken-run-1', '2026-03-07T12:24:10Z', 'broken before run-1'),
        artifact('scheduled-1230', '2026-03-07T12:30:00Z', 'scheduled'),
      ],
      RUN,
    );
    expect(v.outputs.preferred).toBe('scheduled-0200');
    expect(v.outputs.artifacts).toMatchObject([
      { id: 'scheduled-0200', display: 'scheduled · 10 h before the run · 1.0 GiB' },
      // Made after the preserve step started: also the broken state, whatever its label says.
      {
        id: 'scheduled-1230',
        origin: 'preserved_by_time',
        display:
          'made after this run began preserving (by time: no copy was named) · scheduled · 30 min into the run · 1.0 GiB',
      },
      { id: 'broken-run-1', origin: 'preserved_by_time' },
    ]);
    // Only the exceptions carry an origin.
    expect((v.outputs.artifacts as Record<string, unknown>[])[0]).not.toHaveProperty('origin');
    expect(v.evidence.at(-1)?.detail).toContain('2 made since the run started (or of unknown time), never recommended');
  });

  it('does not recommend a backup taken during the run before the copy, nor a labelled one made then', () => {
    const v = judged(
      [
        artifact('pre-upgrade-new', '2026-03-07T12:05:00Z', 'pre-upgrade v1.6.0'),
        artifact('pre-upgrade-old', '2026-03-06T18:00:00Z', 'pre-upgrade v1.5.0'),
        artifact('nightly', '2026-03-07T02:00:00Z', 'nightly'),
        artifact('odd', 'yesterday', 'nightly'),
      ],
      { ...RUN, expected: { preferLabel: 'pre-upgrade' } },
    );
    expect(v.outputs.preferred).toBe('pre-upgrade-old');
    const byId = Object.fromEntries(
      (v.outputs.artifacts as { id: string; display: string; origin?: string }[]).map((a) => [a.id, a]),
    );
    expect(byId['pre-upgrade-new']).toMatchObject({
      origin: 'during_run',
      display: 'made during this run · pre-upgrade v1.6.0 · 5 min into the run · 1.0 GiB',
    });
    expect(byId.odd).toMatchObject({
      origin: 'time_unknown',
      display: 'nightly · yesterday · 1.0 GiB (creation time not understood)',
    });
  });

  it('recommends nothing when every backup was made during the run', () => {
    const v = judged([artifact('late', '2026-03-07T12:10:00Z', 'scheduled')], RUN);
    expect(v.outputs).not.toHaveProperty('preferred');
    expect(v.evidence.at(-1)?.detail).toContain('none was taken before the run started: none is recommended');
  });

  it('offers every artifact in an event-log run and recommends the newest backup from before it', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    // A scheduled dump that finished mid-incident, before the preserve step.
    w.backups = [artifact('nightly-late', new Date(T0.getTime() + 1).toISOString(), 'nightly'), ...w.backups];
    const d = start(w, 'event-log');
    run(d, {
      intercept: (call) => {
        if (call.executor === 'host.preserve_database') {
          // The copy appears on the host's list, stamped when the host made it.
          w.backups = [artifact('broken-run-1', d.now.toISOString(), 'broken before run-1'), ...w.backups];
        }
        return undefined;
      },
    });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    const labels = Object.fromEntries((asked?.options ?? []).map((o) => [o.id, [o.label, o.recommended === true]]));
    expect(labels['broken-run-1']).toEqual([
      expect.stringMatching(/^made after this run began preserving \(by time/),
      false,
    ]);
    expect(labels['nightly-late']).toEqual([expect.stringMatching(/^made during this run · nightly · /), false]);
    expect(labels['nightly-0307']).toEqual(['nightly · 10 h before the run · 1.2 GiB', true]);
    expect(w.restoredArtifact).toBe('nightly-0307');
    expect(d.state.outcome?.outcome).toBe('recovered');
  });

  it('in an event-log run, never recommends the reported copy whose host clock runs behind', () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 2 };
    const d = start(w, 'event-log');
    run(d, {
      intercept: (call) => {
        if (call.executor !== 'host.preserve_database') return undefined;
        w.respond(call);
        // Stamped an hour before the run by the database host's clock, and named in the action's answer.
        const skewed = new Date(T0.getTime() - 3_600_000).toISOString();
        w.backups = [artifact('broken-run-1', skewed, 'broken before run-1'), ...w.backups];
        return {
          kind: 'measured',
          measurement: {
            mode: 'http',
            method: 'POST',
            url: 'https://ops.example.internal/hooks/dg/preserve_database',
            status: 200,
            timedOut: false,
            durationMs: 3,
            preserved: { id: 'broken-run-1' },
          },
        };
      },
    });
    expect(d.state.steps.preserve_database?.outputs).toMatchObject({ preservedId: 'broken-run-1' });
    const asked = eventsOf(d, 'decision_requested').find((e) => e.stepId === 'choose_backup');
    const labels = Object.fromEntries((asked?.options ?? []).map((o) => [o.id, [o.label, o.recommended === true]]));
    expect(labels['broken-run-1']).toEqual([expect.stringMatching(/^the broken copy preserved by this run · /), false]);
    expect(labels['nightly-0307']).toEqual(['nightly · 10 h before the run · 1.2 GiB', true]);
    expect(w.restoredArtifact).toBe('nightly-0307');
  });

  describe('for a rollback, with no backup labelled pre-upgrade', () => {
    const UPGRADE = {
      preferLabel: 'pre-upgrade',
      unlabelledOnlyBefore: { what: 'the upgrade', given: 'upgraded_at=<time>' },
    };
    const nightlies = [
      artifact('nightly-0307', '2026-03-07T02:00:00Z', 'nightly'),
      // Taken by the schedule an hour after the new release went in: it holds data the old one may not read.
      artifact('hourly-1100', '2026-03-07T11:00:00Z', 'hourly'),
    ];

    it('recommends none and says why when the upgrade time is not given', () => {
      const v = judged(nightlies, { runStartedAt: RUN.runStartedAt, expected: UPGRADE });
      expect(v.outputs).not.toHaveProperty('preferred');
      expect(v.evidence.at(-1)).toMatchObject({
        label: 'recommended backup',
        measured: 'none',
        ok: false,
        detail: expect.stringContaining(
          'no backup is labelled "pre-upgrade" and the time of the upgrade is not known: none is recommended',
        ),
      });
      expect(v.evidence.at(-1)?.detail).toContain('upgraded_at=<time>');
    });

    it('recommends the newest taken before the upgrade time given, and says so', () => {
      const v = judged(nightlies, {
        runStartedAt: RUN.runStartedAt,
        expected: UPGRADE,
        params: { takenBefore: '2026-03-07T10:00:00+00:00' },
      });
      expect(v.outputs.preferred).toBe('nightly-0307');
      expect(v.evidence.at(-1)?.detail).toBe(
        'no backup is labelled "pre-upgrade": recommending the newest taken before the upgrade (2026-03-07T10:00:00+00:00).',
      );
    });

    it('recommends none when every backup is newer than the upgrade', () => {
      const v = judged(nightlies, {
        runStartedAt: RUN.runStartedAt,
        expected: UPGRADE,
        params: { takenBefore: '2026-03-06T10:00:00Z' },
      });
      expect(v.outputs).not.toHaveProperty('preferred');
      expect(v.evidence.at(-1)?.detail).toContain('none was taken before the upgrade (2026-03-06T10:00:00Z)');
    });

    it('still prefers a labelled one, whatever the time given', () => {
      const v = judged([...nightlies, artifact('pre-upgrade-v2', '2026-03-07T10:30:00Z', 'pre-upgrade v2')], {
        runStartedAt: RUN.runStartedAt,
        expected: UPGRADE,
        params: { takenBefore: '2026-03-07T10:00:00Z' },
      });
      expect(v.outputs.preferred).toBe('pre-upgrade-v2');
      expect(v.evidence.map((e) => e.label)).not.toContain('recommended backup');
    });
  });
});
