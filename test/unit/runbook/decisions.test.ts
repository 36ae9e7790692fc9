import { describe, expect, it } from 'vitest';
import { loadScenarios, type Scenario, type ScenarioName } from '../../../src/runbook/index.js';
import { eventsOf, run, start } from './driver.js';
import { openRun } from './fixtures.js';
import { World } from './world.js';

// Every option of every decision in every scenario: the world is set up so the decision is asked, the option is
// taken, and its effect is checked (continue, skip_to, switch scenario, abort).

const orphan = (w: World) => {
  w.openRuns = [openRun({ job_id: 'replay-17' })];
};
/** The backup holds the orphan too, so the restore brings it back. */
const orphanInBackup = (w: World) => {
  orphan(w);
  w.openRunsAfterRestore = [...w.openRuns];
};
const restartDown = (w: World) => {
  w.runtimeUp = false;
};
const pgDown = (w: World) => {
  w.postgresUp = false;
  w.connected = false;
};
const semantic = (w: World) => {
  w.cursors.trace_summary = 2150;
  w.failures.trace_summary = 1;
  w.failureRows = [
    { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'ev-9', log_seq: 2151, count: 1 },
  ];
};

/** The newest backup carries the damage too: restoring it leaves the drift in place. */
const damagedNightly = (w: World) => {
  w.integrity = { payload_hash_drift: 1 };
  w.integrityAfterRestoreOf['nightly-0307'] = { payload_hash_drift: 1 };
};

function stepIndexOf(scenario: Scenario, id: string): number {
  return scenario.steps.findIndex((s) => s.id === id);
}

interface Setup {
  readonly world: (w: World) => void;
  /** Choices made on the way to the decision under test. */
  readonly before?: Readonly<Record<string, string>>;
}

const SETUPS: Record<ScenarioName, Record<string, Setup>> = {
  restart: {
    postgres_down: {
      world: (w) => {
        restartDown(w);
        pgDown(w);
      },
    },
    already_up: {
      world: (w) => {
        w.cursors.trace_summary = 2150;
      },
    },
    orphan_runs: {
      world: (w) => {
        restartDown(w);
        orphan(w);
      },
    },
    catch_up_decision: {
      world: (w) => {
        restartDown(w);
        w.cursors.trace_summary = 2150;
      },
    },
  },
  postgres: {
    postgres_up: { world: () => undefined },
    restart_decision: {
      world: (w) => {
        pgDown(w);
        w.reconnectsByItself = false;
      },
    },
    orphan_runs: {
      world: (w) => {
        pgDown(w);
        orphan(w);
      },
    },
    replay_decision: {
      world: (w) => {
        pgDown(w);
        w.cursors.precedent_index = 2100;
      },
    },
  },
  projections: {
    nothing_to_repair: { world: () => undefined },
    orphan_runs: { world: orphan },
    replay_decision: { world: semantic },
    rebuild_refused: {
      world: (w) => {
        semantic(w);
        w.allowRebuild = false;
      },
      before: { replay_decision: 'rebuild' },
    },
  },
  'event-log': {
    no_damage: { world: () => undefined },
    choose_backup: {
      world: (w) => {
        w.integrity = { payload_hash_drift: 1 };
      },
    },
    rebuild_decision: {
      world: (w) => {
        w.integrity = { payload_hash_drift: 1 };
      },
    },
    restored_damaged: { world: damagedNightly },
    choose_backup_again: { world: damagedNightly, before: { restored_damaged: 'choose_another' } },
    rebuild_refused: {
      world: (w) => {
        w.integrity = { payload_hash_drift: 1 };
        w.allowRebuild = false;
      },
      before: { rebuild_decision: 'rebuild' },
    },
    orphan_runs: {
      world: (w) => {
        w.integrity = { payload_hash_drift: 1 };
        orphanInBackup(w);
      },
    },
  },
  upgrade: {
    smoke_ok: { world: () => undefined },
    choose_backup: {
      world: (w) => {
        w.smokeFailing = ['trace_read'];
      },
    },
    choose_release: {
      world: (w) => {
        w.smokeFailing = ['trace_read'];
      },
    },
    orphan_runs: {
      world: (w) => {
        w.smokeFailing = ['trace_read'];
        orphanInBackup(w);
      },
    },
    catch_up_decision: {
      world: (w) => {
        w.smokeFailing = ['trace_read'];
        // The backup was taken while projections lagged.
        w.cursorsAfterRestore = 2050;
      },
    },
  },
};

const cases = [...loadScenarios().values()].flatMap((scenario) =>
  scenario.steps
    .filter((s) => s.kind === 'decision')
    .flatMap((decision) => {
      if (decision.kind !== 'decision') return [];
      const options = decision.options.map((o) => ({
        id: o.id,
        effect: o.effect ?? 'continue',
        needsValue: o.needsValue !== undefined,
      }));
      // A decision built from a list also offers the list's entries: take the first of those too.
      const dynamic = decision.optionsFrom ? [{ id: '(first listed)', effect: 'continue', needsValue: false }] : [];
      return [...dynamic, ...options].map((option) => ({ scenario: scenario.name, decision: decision.id, option }));
    }),
);

describe('every decision branch', () => {
  it('has a setup that asks every decision', () => {
    for (const c of cases) expect(SETUPS[c.scenario][c.decision], `${c.scenario}.${c.decision}`).toBeDefined();
  });

  it.each(cases)('$scenario: $decision → $option.id', ({ scenario, decision, option }) => {
    const setup = SETUPS[scenario][decision] as Setup;
    const w = new World();
    setup.world(w);
    const d = start(w, scenario, { traceId: 'trace-demo', previousRelease: 'v1.4.2' });
    run(d, {
      decide: (cmd) => {
        const forced = setup.before?.[cmd.stepId];
        if (forced) return { optionId: forced, reason: 'on the way' };
        if (cmd.stepId !== decision) return undefined;
        const id = option.id === '(first listed)' ? (cmd.options[0]?.id as string) : option.id;
        return { optionId: id, reason: 'branch under test', ...(option.needsValue ? { value: 'v1.4.1' } : {}) };
      },
      pause: () => 'stop',
    });
    const made = d.state.decisions.filter((x) => x.stepId === decision);
    expect(made.length, 'the decision was asked and made').toBeGreaterThan(0);
    const effect = option.effect;
    if (effect === 'abort') {
      expect(d.state.outcome?.outcome).toBe('aborted');
      expect(eventsOf(d, 'run_aborted')[0]).toMatchObject({ stepId: decision, by: { id: 'U012ABC' } });
    } else if (effect.startsWith('end:switched:')) {
      expect(d.state.outcome).toMatchObject({ outcome: 'switched', switchTo: effect.slice('end:switched:'.length) });
    } else {
      expect(d.state.steps[decision]?.status).toBe('passed');
      expect(['finished', 'paused']).toContain(d.state.status);
      if (effect.startsWith('skip_to:')) {
        const target = effect.slice('skip_to:'.length);
        const sc = loadScenarios().get(scenario);
        if (!sc) throw new Error('no scenario');
        const between = sc.steps.slice(stepIndexOf(sc, decision) + 1, stepIndexOf(sc, target)).map((s) => s.id);
        expect(between.length).toBeGreaterThan(0);
        for (const id of between) expect(d.state.steps[id]?.skip?.cause, id).toBe('decision');
        expect(stepIndexOf(sc, target)).toBeGreaterThan(stepIndexOf(sc, decision));
        expect(d.state.steps[target]?.status).not.toBe('skipped');
      } else {
        // The run went past the decision: some later step was started, asked or finished the run.
        const at = d.events.findIndex((e) => e.type === 'decision_made' && e.stepId === decision);
        expect(d.events.slice(at + 1).some((e) => e.type !== 'step_skipped')).toBe(true);
      }
    }
  });
});
