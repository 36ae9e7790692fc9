import type { ScenarioInput } from '../scenario-schema.js';
import {
  ABORT_OPTION,
  catchUpIdleProjectors,
  checklistGate,
  readTrace,
  restartRuntime,
  WAIT_FOR_HEALTHZ_POLL,
  workflowIdParam,
} from './shared.js';

/** Scenario 1: the app node restarted or the host rebooted; Postgres is healthy. */
export const restartScenario: ScenarioInput = {
  name: 'restart',
  version: 1,
  title: 'App node restart or host reboot',
  summary:
    'DecisionGraph is down (healthz unreachable) while Postgres is healthy: restart the runtime, wait for healthz, ' +
    'make sure projections are current or catching up (a replay starts them if not), read a known trace and ' +
    'workflow, and close with the recovery checklist.',
  aliases: ['node-restart', 'node', 'reboot'],
  scope: 'node',
  requires: ['traceId'],
  steps: [
    {
      id: 'check_healthz',
      kind: 'probe',
      title: 'Confirm the symptom: is healthz reachable?',
      risk: 'read_only',
      confirms: 'healthz does not answer',
      executor: 'dg.healthz',
      judge: 'healthz.symptoms',
      timeoutMs: 10_000,
    },
    {
      id: 'check_postgres',
      kind: 'probe',
      title: "Confirm DecisionGraph's Postgres answers SQL",
      risk: 'read_only',
      executor: 'sql.reach',
      judge: 'sql.symptoms',
      timeoutMs: 10_000,
      why: 'A restart does not help while Postgres is down: that is the postgres scenario',
    },
    {
      id: 'postgres_down',
      kind: 'decision',
      title: 'Postgres is down: switch scenario?',
      risk: 'read_only',
      when: { step: 'check_postgres', output: 'postgres', in: ['unreachable'] },
      prompt:
        "DecisionGraph's Postgres does not accept connections. Restarting the runtime will not bring the service " +
        'back until Postgres is available again.',
      evidenceFrom: ['check_healthz', 'check_postgres'],
      options: [
        {
          id: 'switch_postgres',
          label: 'Switch to the postgres scenario',
          recommended: true,
          effect: 'end:switched:postgres',
        },
        { id: 'restart_anyway', label: 'Restart the runtime anyway', needsReason: true },
        ABORT_OPTION,
      ],
    },
    {
      id: 'already_up',
      kind: 'decision',
      title: 'healthz already answers',
      risk: 'read_only',
      when: {
        all: [
          { step: 'check_healthz', output: 'healthz', in: ['up'] },
          { step: 'check_postgres', output: 'postgres', in: ['reachable'] },
        ],
      },
      prompt:
        'healthz answers 200 with Postgres connected: the runtime is up, so a restart is not what the symptoms ' +
        'call for. Projections may still be behind after an earlier restart.',
      evidenceFrom: ['check_healthz'],
      options: [
        {
          id: 'skip_restart',
          label: 'Skip the restart, check projections',
          recommended: true,
          effect: 'skip_to:check_projections',
        },
        { id: 'restart_anyway', label: 'Restart the runtime anyway', needsReason: true },
        ABORT_OPTION,
      ],
    },
    restartRuntime({
      recheckJudge: 'healthz.up',
      why: 'No DecisionGraph API restarts the node: this is a host action (manual unless configured)',
    }),
    {
      id: 'wait_healthz',
      kind: 'wait_until',
      title: 'Wait until healthz answers 200',
      risk: 'read_only',
      executor: 'dg.healthz',
      judge: 'healthz.up',
      poll: WAIT_FOR_HEALTHZ_POLL,
      deadlineMs: 300_000,
    },
    ...catchUpIdleProjectors({
      checkWhy:
        'Projections resume from durable cursors, but after a restart the workers start only when an event is ' +
        'appended or a replay is requested: with none running one reading tells stuck, otherwise two readings tell ' +
        'catching up from stuck',
      prompt:
        'Projections have pending events and nothing moves them: no worker or replay job runs, or no cursor moved ' +
        'between two readings. After a restart DecisionGraph ' +
        'starts projection workers only when an event is appended or a replay is requested, so they will not ' +
        'catch up on their own while nothing writes.',
      fallbackReason: 'dg-recovery run {run_id}: catch_up after a node restart',
      replayWhy: 'A repeated request attaches to the running job (409 already running), so it is safe to repeat',
    }),
    readTrace('read_trace', 'Read the known trace'),
    {
      id: 'read_inbox',
      kind: 'probe',
      title: 'Read the workflow inbox',
      risk: 'safe_write',
      executor: 'dg.workflow_inbox',
      when: { param: 'workflowId', present: true },
      why: 'Every workflow GET first refreshes the workflow tables and escalates overdue items: a read that writes',
    },
    {
      id: 'read_workflow',
      kind: 'probe',
      title: 'Read the known workflow',
      risk: 'safe_write',
      executor: 'dg.workflow_read',
      when: { param: 'workflowId', present: true },
      params: { workflowId: workflowIdParam },
    },
    checklistGate(),
  ],
};
