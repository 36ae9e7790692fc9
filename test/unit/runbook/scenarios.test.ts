import { describe, expect, it } from 'vitest';
import {
  EXECUTOR_NAMES,
  findScenario,
  isExecutorStep,
  JUDGES,
  loadScenarios,
  parseScenario,
  resolveScenario,
  SCENARIO_NAMES,
  type Scenario,
  type ScenarioInput,
  ScenarioInvalidError,
  UnknownScenarioError,
} from '../../../src/runbook/index.js';
import { SCENARIO_DATA } from '../../../src/runbook/scenarios/index.js';

const scenarios = () => [...loadScenarios().values()];

function executors(s: Scenario): string[] {
  return s.steps.filter(isExecutorStep).map((step) => step.executor);
}

function clone(name: string): ScenarioInput {
  const data = SCENARIO_DATA.find((s) => s.name === name);
  return structuredClone(data) as ScenarioInput;
}

function problemsOf(data: unknown): string[] {
  try {
    parseScenario(data);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioInvalidError);
    expect((err as ScenarioInvalidError).code).toBe('DG_ERR_SCENARIO_INVALID');
    return [...(err as ScenarioInvalidError).problems];
  }
}

describe('scenario data', () => {
  it('validates all five scenarios with zod and the cross-checks', () => {
    expect(scenarios().map((s) => s.name)).toEqual([...SCENARIO_NAMES]);
    for (const data of SCENARIO_DATA) expect(problemsOf(data)).toEqual([]);
  });

  it('resolves names and aliases, ignoring case and underscores', () => {
    expect(findScenario('node-restart')?.name).toBe('restart');
    expect(findScenario('pg')?.name).toBe('postgres');
    expect(findScenario('projection')?.name).toBe('projections');
    expect(findScenario('eventlog')?.name).toBe('event-log');
    expect(findScenario('Event_Log')?.name).toBe('event-log');
    expect(findScenario('rollback')?.name).toBe('upgrade');
    expect(findScenario(' RESTART ')?.name).toBe('restart');
  });

  it('names every scenario and alias when the name is unknown', () => {
    expect(() => resolveScenario('reboot-everything')).toThrow(UnknownScenarioError);
    try {
      resolveScenario('reboot-everything');
    } catch (err) {
      expect((err as UnknownScenarioError).code).toBe('DG_ERR_UNKNOWN_SCENARIO');
      expect((err as Error).message).toContain('restart (node-restart');
      expect((err as Error).message).toContain('upgrade (rollback');
    }
  });

  it('ends every scenario with the checklist gate and names only known executors and matching judges', () => {
    for (const s of scenarios()) {
      expect(s.steps.at(-1)).toMatchObject({ kind: 'gate', executor: 'gate.checklist' });
      for (const step of s.steps.filter(isExecutorStep)) {
        expect(EXECUTOR_NAMES).toContain(step.executor);
        if (step.judge) expect(JUDGES[step.judge].executors as readonly string[]).toContain(step.executor);
      }
    }
  });

  it('puts an approval right before every destructive step, bound to what the approver sees', () => {
    for (const s of scenarios()) {
      s.steps.forEach((step, i) => {
        if (!isExecutorStep(step) || step.risk !== 'destructive') return;
        const guard = s.steps[i - 1];
        expect(guard).toMatchObject({ kind: 'approval', guards: step.id });
      });
    }
    const destructive = scenarios().flatMap((s) =>
      s.steps.filter((x) => isExecutorStep(x) && x.risk === 'destructive').map((x) => `${s.name}:${x.id}`),
    );
    expect(destructive).toEqual([
      'projections:start_rebuild',
      'event-log:stop_writes',
      'event-log:preserve_database',
      'event-log:restore_backup',
      'event-log:restore_backup_again',
      'event-log:start_rebuild',
      'upgrade:stop_runtime',
      'upgrade:restore_backup',
      'upgrade:switch_release',
    ]);
  });

  it('marks workflow reads as writes, because DecisionGraph refreshes workflow tables on every GET', () => {
    for (const s of scenarios()) {
      for (const step of s.steps.filter(isExecutorStep)) {
        if (step.executor.startsWith('dg.workflow')) expect(step.risk).toBe('safe_write');
      }
    }
  });

  it('covers the runbook operator flow of each scenario, in order', () => {
    const byName = loadScenarios();
    const order = (name: (typeof SCENARIO_NAMES)[number], wanted: string[]) => {
      const list = executors(byName.get(name) as Scenario);
      let from = 0;
      for (const w of wanted) {
        const at = list.indexOf(w, from);
        expect(at, `${name}: ${w} after position ${from}`).toBeGreaterThanOrEqual(0);
        from = at + 1;
      }
    };
    order('restart', [
      'dg.healthz',
      'sql.reach',
      'host.restart_runtime',
      'dg.healthz',
      'dg.projection_health',
      'dg.replay_start',
      'dg.replay_poll',
      'dg.trace_read',
      'dg.workflow_inbox',
      'dg.workflow_read',
      'gate.checklist',
    ]);
    order('postgres', [
      'sql.reach',
      'dg.healthz',
      'host.restore_postgres',
      'sql.reach',
      'dg.healthz',
      'host.restart_runtime',
      'dg.projection_health',
      'dg.replay_start',
      'dg.replay_poll',
      'gate.checklist',
    ]);
    order('projections', [
      'dg.projection_health',
      'sql.projection_failures',
      'dg.replay_inventory',
      'dg.replay_start',
      'dg.replay_start',
      'dg.replay_poll',
      'dg.trace_read',
      'dg.graph_read',
      'gate.checklist',
    ]);
    order('event-log', [
      'sql.integrity',
      'sql.parity',
      'host.stop_writes',
      'host.preserve_database',
      'host.list_backups',
      'host.restore_backup',
      'sql.integrity',
      'host.list_backups',
      'host.restore_backup',
      'sql.integrity',
      'host.restart_runtime',
      'dg.healthz',
      'dg.projection_health',
      'dg.trace_read',
      'sql.parity',
      'dg.replay_inventory',
      'dg.replay_start',
      'dg.replay_poll',
      'manual',
      'gate.checklist',
    ]);
    order('upgrade', [
      'smoke.checks',
      'host.stop_runtime',
      'sql.parity',
      'host.list_backups',
      'host.restore_backup',
      'host.switch_release',
      'host.start_runtime',
      'dg.healthz',
      'dg.projection_health',
      'dg.replay_inventory',
      'dg.replay_start',
      'dg.replay_poll',
      'smoke.checks',
      'gate.checklist',
    ]);
    const decisions = (name: (typeof SCENARIO_NAMES)[number]) =>
      (byName.get(name) as Scenario).steps.filter((s) => s.kind === 'decision').map((s) => s.id);
    expect(decisions('projections')).toEqual([
      'nothing_to_repair',
      'orphan_runs',
      'replay_decision',
      'rebuild_refused',
    ]);
    expect(decisions('event-log')).toEqual([
      'no_damage',
      'choose_backup',
      'restored_damaged',
      'choose_backup_again',
      'orphan_runs',
      'rebuild_decision',
      'rebuild_refused',
    ]);
    expect(decisions('upgrade')).toEqual([
      'smoke_ok',
      'choose_backup',
      'choose_release',
      'orphan_runs',
      'catch_up_decision',
    ]);
  });

  it('never lets the bot write to the event log: no executor appends events', () => {
    for (const name of EXECUTOR_NAMES) expect(name).not.toMatch(/append|events|sql\.(insert|update|delete)/);
  });
});

describe('scenario validation', () => {
  it('rejects a duplicate step id and a reference to a later step', () => {
    const data = clone('restart') as { steps: Record<string, unknown>[] };
    data.steps[1] = { ...data.steps[1], id: 'check_healthz' };
    expect(problemsOf(data)).toContain('check_healthz: duplicate step id');

    const forward = clone('restart') as { steps: Record<string, unknown>[] };
    forward.steps[0] = { ...forward.steps[0], when: { step: 'gate', output: 'healthy', in: [true] } };
    expect(problemsOf(forward)).toContain('check_healthz.when: step gate must come earlier');
  });

  it('rejects a destructive step without its approval', () => {
    const data = clone('upgrade') as { steps: Record<string, unknown>[] };
    const at = data.steps.findIndex((s) => s.id === 'approve_stop');
    data.steps.splice(at, 1);
    expect(problemsOf(data)).toContain(
      'stop_runtime: a destructive step needs an approval step right before it that guards it',
    );
  });

  it('rejects a side effect that is neither idempotent nor re-checked, and a judge that reads another executor', () => {
    const data = clone('restart') as { steps: Record<string, unknown>[] };
    const restart = data.steps.find((s) => s.id === 'restart_runtime') as Record<string, unknown>;
    delete restart.recheck;
    const wait = data.steps.find((s) => s.id === 'wait_healthz') as Record<string, unknown>;
    wait.judge = 'trace.readable';
    const problems = problemsOf(data);
    expect(problems).toContain('restart_runtime: an action with side effects needs a recheck or idempotent: true');
    expect(problems).toContain('wait_healthz: judge trace.readable does not read dg.healthz measurements');
  });

  it('rejects a re-check poll without a wait to poll for', () => {
    const data = clone('restart') as { steps: Record<string, unknown>[] };
    const restart = data.steps.find((s) => s.id === 'restart_runtime') as { recheck: Record<string, unknown> };
    delete restart.recheck.waitMs;
    expect(problemsOf(data)).toContain('restart_runtime.recheck: a poll needs waitMs');
  });

  it('waits for the effect of an interrupted start, stop or restart as long as the wait that follows it', () => {
    const waits: Record<string, [string, string]> = {
      restart: ['restart_runtime', 'wait_healthz'],
      postgres: ['restore_postgres', 'wait_sql'],
      upgrade: ['start_runtime', 'wait_healthz'],
    };
    for (const [name, [actionId, waitId]] of Object.entries(waits)) {
      const s = loadScenarios().get(name as Scenario['name']) as Scenario;
      const action = s.steps.find((x) => x.id === actionId);
      const wait = s.steps.find((x) => x.id === waitId);
      if (action?.kind !== 'action' || wait?.kind !== 'wait_until') throw new Error(`${name}: ${actionId}`);
      expect([name, action.recheck?.waitMs]).toEqual([name, wait.deadlineMs]);
    }
    // An action without a probe tells a person what to look at if the bot stops during it.
    const eventLog = loadScenarios().get('event-log') as Scenario;
    for (const id of ['stop_writes', 'preserve_database', 'restore_backup', 'restart_runtime']) {
      const step = eventLog.steps.find((x) => x.id === id);
      expect([id, step?.kind === 'action' && step.interruptedCheck !== undefined]).toEqual([id, true]);
    }
  });

  it('rejects a scenario that does not end with the gate, and a skip_to backwards', () => {
    const data = clone('restart') as { steps: Record<string, unknown>[] };
    data.steps.pop();
    expect(problemsOf(data)).toContain('the last step must be the checklist gate');

    const back = clone('restart') as { steps: Record<string, { id: string; effect?: string }[] | unknown>[] };
    const decision = back.steps.find((s) => s.id === 'already_up') as { options: { effect?: string }[] };
    (decision.options[0] as { effect?: string }).effect = 'skip_to:check_healthz';
    expect(problemsOf(back)).toContain(
      'already_up.options.skip_restart: skip_to target check_healthz must come at least two steps later',
    );
  });

  it('rejects unknown fields and kinds through zod, naming the path', () => {
    const data = clone('restart') as { steps: Record<string, unknown>[] };
    data.steps[0] = { ...data.steps[0], kind: 'teleport' };
    const problems = problemsOf(data);
    expect(problems.some((p) => p.startsWith('steps.0'))).toBe(true);
    const typo = clone('restart') as { steps: Record<string, unknown>[] };
    typo.steps[0] = { ...typo.steps[0], deadlinMs: 5 };
    expect(problemsOf(typo).some((p) => p.includes('deadlinMs'))).toBe(true);
  });

  it('freezes the loaded scenarios', () => {
    const s = loadScenarios().get('restart') as Scenario;
    expect(Object.isFrozen(s.steps)).toBe(true);
    expect(() => {
      (s.steps as unknown as unknown[]).push({});
    }).toThrow();
  });
});
