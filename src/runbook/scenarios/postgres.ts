import type { ScenarioInput } from '../scenario-schema.js';
import {
  ABORT_OPTION,
  catchUpIfStuck,
  checklistGate,
  restartRuntime,
  WAIT_FOR_HEALTHZ_POLL,
  waitHealthzConnected,
} from './shared.js';

/** Scenario 2: Postgres was temporarily unavailable. */
export const postgresScenario: ScenarioInput = {
  name: 'postgres',
  version: 1,
  title: 'Postgres temporarily unavailable',
  summary:
    "DecisionGraph's Postgres is unreachable: bring it back, make sure the runtime reconnects (restart it if not), " +
    'check projection lag and failures, replay only if projections stay stale, and close with the checklist.',
  aliases: ['pg', 'postgresql', 'db', 'database'],
  scope: 'node',
  requires: ['traceId'],
  steps: [
    {
      id: 'check_sql',
      kind: 'probe',
      title: "Confirm DecisionGraph's Postgres is unreachable by SQL",
      risk: 'read_only',
      confirms: 'Postgres does not answer SQL',
      executor: 'sql.reach',
      judge: 'sql.symptoms',
      timeoutMs: 10_000,
    },
    {
      id: 'check_healthz',
      kind: 'probe',
      title: 'Confirm healthz reports projection health unavailable',
      risk: 'read_only',
      confirms: 'healthz reports projection health unavailable',
      executor: 'dg.healthz',
      judge: 'healthz.symptoms',
      timeoutMs: 10_000,
      why: 'healthz still answers 200 with Postgres down; its projection_health member turns "unavailable"',
    },
    {
      id: 'postgres_up',
      kind: 'decision',
      title: 'Postgres answers SQL',
      risk: 'read_only',
      when: { step: 'check_sql', output: 'postgres', in: ['reachable'] },
      prompt: "DecisionGraph's Postgres accepts SQL connections: it is not (or no longer) down.",
      evidenceFrom: ['check_sql', 'check_healthz'],
      options: [
        {
          id: 'skip_restore',
          label: 'Skip restoring Postgres; check that the runtime reconnects',
          recommendedWhen: { step: 'check_healthz', output: 'healthz', notIn: ['unreachable'] },
          effect: 'skip_to:wait_reconnect',
        },
        {
          id: 'switch_restart',
          label: 'Switch to the restart scenario (the runtime itself is down)',
          recommendedWhen: { step: 'check_healthz', output: 'healthz', in: ['unreachable'] },
          effect: 'end:switched:restart',
        },
        { id: 'restore_anyway', label: 'Restore Postgres anyway', needsReason: true },
        ABORT_OPTION,
      ],
    },
    {
      id: 'restore_postgres',
      kind: 'action',
      title: "Restore DecisionGraph's Postgres",
      risk: 'safe_write',
      executor: 'host.restore_postgres',
      // Postgres started or failed over may take a while to accept connections: as long as the wait that follows.
      recheck: { executor: 'sql.reach', judge: 'sql.reachable', waitMs: 600_000, poll: WAIT_FOR_HEALTHZ_POLL },
      timeoutMs: 600_000,
      why: 'Availability first: start the service or fail over; the bot never writes to DecisionGraph tables',
    },
    {
      id: 'wait_sql',
      kind: 'wait_until',
      title: 'Wait until Postgres accepts SQL connections',
      risk: 'read_only',
      executor: 'sql.reach',
      judge: 'sql.reachable',
      poll: WAIT_FOR_HEALTHZ_POLL,
      deadlineMs: 600_000,
    },
    {
      id: 'wait_reconnect',
      kind: 'wait_until',
      title: 'Check healthz: has the runtime reconnected?',
      risk: 'read_only',
      executor: 'dg.healthz',
      judge: 'healthz.db_connected',
      poll: WAIT_FOR_HEALTHZ_POLL,
      deadlineMs: 60_000,
      onDeadline: 'pass',
      why:
        "The runtime's connection pool reconnects on its own; if healthz still shows projection health unavailable " +
        'after a minute, the node needs a restart',
    },
    {
      id: 'restart_decision',
      kind: 'decision',
      title: 'The runtime has not reconnected',
      risk: 'read_only',
      when: { step: 'wait_reconnect', output: 'reconnected', in: [false] },
      prompt:
        'Postgres is back, but after a minute healthz still does not show a connected runtime (projection health ' +
        'unavailable, or the repo not started). The runbook restarts the app node when it does not reconnect cleanly.',
      evidenceFrom: ['wait_reconnect'],
      options: [
        { id: 'restart', label: 'Restart the runtime', recommended: true },
        { id: 'no_restart', label: 'Do not restart; go on with the checks', needsReason: true },
        ABORT_OPTION,
      ],
    },
    restartRuntime({ when: { decision: 'restart_decision', is: 'restart' }, recheckJudge: 'healthz.db_connected' }),
    waitHealthzConnected('wait_healthz', { step: 'restart_runtime', status: ['passed'] }),
    ...catchUpIfStuck({
      check: { title: 'Check projection lag and open failures' },
      decision: {
        id: 'replay_decision',
        title: 'Projections still stale: run an explicit replay?',
        prompt:
          'Projections are still stale after the recovery and no cursor is moving. The runbook runs an explicit ' +
          'replay only in this case, with a reason recorded on the run.',
        catchUp: { label: 'Run a catch_up replay of all projections', needsReason: true },
        noReplay: { id: 'no_replay', label: 'No replay' },
      },
      replay: {
        id: 'start_replay',
        title: 'Request the catch_up replay',
        fallbackReason: 'dg-recovery run {run_id}: catch_up after Postgres came back',
      },
      pollId: 'poll_replay',
    }),
    checklistGate(),
  ],
};
