import type { ScenarioName } from '../../../../src/runbook/index.js';
import { orphan, World } from '../../../helpers/engine-world.js';
import { BO, type Driven, drive } from './drive.js';

// One recovered, one failed and one aborted run per scenario, each driven through the engine from the fault the
// simulator injects for it, with the kind of choices and mishaps real incidents have.

export type RunKind = 'recovered' | 'failed' | 'aborted';

const restart: Record<RunKind, () => Driven> = {
  recovered: () => {
    const w = new World();
    w.runtimeUp = false;
    w.cursors.trace_summary = 2150;
    w.openRuns = [orphan('replay-5790')];
    return drive(
      w,
      'restart',
      {
        decide: (cmd) =>
          cmd.stepId === 'orphan_runs'
            ? { optionId: 'ignore', reason: 'cut off by the 09:41 crash; the catch_up below covers it' }
            : undefined,
      },
      { traceId: 'trace-7f3a', workflowId: 'wf-credit-7' },
    );
  },
  failed: () => {
    const w = new World();
    w.runtimeUp = false;
    w.traceMissing = true;
    w.defaultMode = 'http';
    return drive(w, 'restart', {
      pause: (cmd) =>
        cmd.stepId === 'read_trace'
          ? { skip: 'trace-7f3a may have been purged by retention; the checklist will tell' }
          : { skip: 'handing over to the DecisionGraph team: the known trace is gone' },
    });
  },
  aborted: () => {
    const w = new World();
    w.runtimeUp = false;
    w.modes.restart_runtime = 'manual';
    return drive(w, 'restart', {
      abortWhen: (cmd) =>
        cmd.type === 'await_manual' ? 'the hypervisor team is migrating the VM and restarts it themselves' : undefined,
    });
  },
};

const postgres: Record<RunKind, () => Driven> = {
  recovered: () => {
    const w = new World();
    w.postgresUp = false;
    w.connected = false;
    w.reconnectsByItself = false;
    w.modes.restore_postgres = 'manual';
    return drive(w, 'postgres', {
      manual: () => ({ done: true, note: 'failed over to the standby pg-2 (patroni switchover)' }),
    });
  },
  failed: () => {
    const w = new World();
    w.postgresUp = false;
    w.connected = false;
    w.cursors.trace_summary = 2100;
    w.cursors.context_graph = 2100;
    w.replayForbidden = true;
    return drive(w, 'postgres', {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision'
          ? { optionId: 'catch_up', reason: 'projections stuck since the outage' }
          : undefined,
      pause: (cmd) =>
        cmd.stepId === 'start_replay'
          ? { skip: "the bot's account lacks projection_replay; asked the platform team" }
          : { skip: 'projections stay behind until the permission is granted' },
    });
  },
  aborted: () => {
    const w = new World();
    return drive(w, 'postgres', {
      decide: (cmd) =>
        cmd.stepId === 'postgres_up'
          ? { optionId: 'abort', reason: 'false alarm: the monitoring host lost its route to the database' }
          : undefined,
    });
  },
};

const projections: Record<RunKind, () => Driven> = {
  recovered: () => {
    const w = new World();
    w.cursors.precedent_index = 2160;
    w.failures.precedent_index = 2;
    w.failureRows = [
      { projection_name: 'precedent_index', error_code: 'storage', event_id: 'evt-01HQ80', log_seq: 2161, count: 2 },
    ];
    w.openRuns = [orphan('replay-5790')];
    return drive(w, 'projections', {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision'
          ? { optionId: 'catch_up', reason: 'storage errors from the 11:50 disk-full incident: transient' }
          : undefined,
    });
  },
  failed: () => {
    const w = new World();
    w.cursors.trace_summary = 1876;
    w.failures.trace_summary = 1;
    w.failureRows = [
      { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'evt-01HQ7Z', log_seq: 1877, count: 1 },
    ];
    w.allowRebuild = false;
    w.replayOutcome = 'failed';
    return drive(w, 'projections', {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision'
          ? { optionId: 'rebuild', reason: 'hash mismatch at log_seq 1877: trace_summary cannot be trusted' }
          : undefined,
      pause: (cmd) =>
        cmd.stepId === 'gate'
          ? { skip: 'evt-01HQ7Z needs a look at the event log first; opening an event-log investigation' }
          : { skip: 'same hash mismatch; continuing to see what else reads' },
    });
  },
  aborted: () => {
    const w = new World();
    w.cursors.trace_summary = 1876;
    w.failures.trace_summary = 1;
    w.failureRows = [
      { projection_name: 'trace_summary', error_code: 'conflict', event_id: 'evt-01HQ7Z', log_seq: 1877, count: 1 },
    ];
    return drive(w, 'projections', {
      decide: (cmd) =>
        cmd.stepId === 'replay_decision'
          ? { optionId: 'rebuild', reason: 'semantic failure <!channel> & hash mismatch' }
          : undefined,
      abortWhen: (cmd) =>
        cmd.type === 'await_approval'
          ? 'no second approver reachable tonight; the rebuild waits for the morning shift'
          : undefined,
    });
  },
};

const eventLog: Record<RunKind, () => Driven> = {
  recovered: () => {
    const w = new World();
    w.integrity = { payload_hash_drift: 1 };
    w.modes.stop_writes = 'http';
    w.lateBackup = {
      id: 'hourly-0307-1100',
      path: '/var/backups/dg/dg-20260307-1100.dump',
      created_at: '2026-03-07T11:00:00Z',
      size_bytes: 1_290_000_000,
      label: 'hourly',
    };
    return drive(w, 'event-log', {
      decide: (cmd) =>
        cmd.stepId === 'choose_backup'
          ? { optionId: 'nightly-0307', reason: 'last nightly before the drift first seen at 09:12', by: BO }
          : undefined,
      manual: () => ({ done: true, note: 'integrations re-enabled, load balancer out of maintenance' }),
    });
  },
  failed: () => {
    const w = new World();
    w.integrity = { trace_seq_step: 1, trace_seq_range: 1 };
    w.integrityAfterRestore = { cursor_ahead: 3 };
    w.cursorsAfterRestore = 2168;
    w.allowRebuild = false;
    return drive(w, 'event-log', {
      decide: (cmd) =>
        cmd.stepId === 'rebuild_decision'
          ? { optionId: 'rebuild', reason: 'cursors ahead of the restored tail' }
          : undefined,
      pause: () => ({ skip: 'allow_rebuild has to be enabled by the platform team (change CHG-4411)' }),
    });
  },
  aborted: () => {
    const w = new World();
    return drive(w, 'event-log', {
      decide: (cmd) =>
        cmd.stepId === 'no_damage'
          ? { optionId: 'stop', reason: 'the restore drill parity alert was a false positive' }
          : undefined,
    });
  },
};

const upgrade: Record<RunKind, () => Driven> = {
  recovered: () => {
    const w = new World();
    w.smokeFailing = ['trace_read', 'projection_health'];
    return drive(w, 'upgrade', {}, { traceId: 'trace-7f3a', previousRelease: 'v1.4.2' });
  },
  failed: () => {
    const w = new World();
    w.smokeFailing = ['trace_read'];
    w.modes.stop_runtime = 'http';
    return drive(
      w,
      'upgrade',
      {
        decide: (cmd) =>
          cmd.stepId === 'choose_release'
            ? { optionId: 'other', value: 'v1.4.1', reason: 'v1.4.2 carries the same broken migration' }
            : undefined,
        tick: (world, state) => {
          // A catch_up started from the console after the run looked for orphans, cut off by a supervisor restart:
          // its row stays `running` with no job behind it.
          if (state.steps.inspect_runs?.status === 'passed' && world.openRuns.length === 0 && !restored.has(world)) {
            restored.add(world);
            world.openRuns = [orphan('replay-5760')];
          }
        },
        pause: () => ({
          skip: 'replay-5760 was cut off by the supervisor restart; to be decided with the DecisionGraph team',
        }),
      },
      { traceId: 'trace-7f3a', previousRelease: 'v1.4.2' },
    );
  },
  aborted: () => {
    const w = new World();
    w.smokeFailing = ['trace_read'];
    w.modes.list_backups = 'manual';
    return drive(
      w,
      'upgrade',
      {
        manual: () => ({ done: true, note: 'no pre-upgrade dump on the backup host, newest is nightly 03-06 02:00' }),
        decide: (cmd) =>
          cmd.stepId === 'choose_backup'
            ? { optionId: 'abort', reason: 'pre-upgrade dump missing: rolling forward with hotfix v1.5.1 instead' }
            : undefined,
      },
      { traceId: 'trace-7f3a', previousRelease: 'v1.4.2' },
    );
  },
};

const restored = new WeakSet<World>();

export const RUNS: Record<ScenarioName, Record<RunKind, () => Driven>> = {
  restart,
  postgres,
  projections,
  'event-log': eventLog,
  upgrade,
};
