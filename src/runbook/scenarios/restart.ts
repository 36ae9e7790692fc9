import type { ScenarioInput } from '../scenario-schema.js';
import {
  checklistGate,
  inspectRuns,
  orphanRunsDecision,
  pollReplay,
  readTrace,
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
        { id: 'abort', label: 'Abort the run', effect: 'abort' },
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
        { id: 'abort', label: 'Abort the run', effect: 'abort' },
      ],
    },
    {
      id: 'restart_runtime',
      kind: 'action',
      title: 'Restart the DecisionGraph runtime',
      risk: 'safe_write',
      executor: 'host.restart_runtime',
      recheck: { executor: 'dg.healthz', judge: 'healthz.up' },
      timeoutMs: 120_000,
      why: 'No DecisionGraph API restarts the node: this is a host action (manual unless configured)',
    },
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
    {
      id: 'check_projections',
      kind: 'probe',
      title: 'Check projection health twice: current or catching up?',
      risk: 'read_only',
      executor: 'dg.projection_health',
      judge: 'projections.progress',
      poll: { initialMs: 10_000, maxMs: 10_000, factor: 1 },
      deadlineMs: 120_000,
      why:
        'Projections resume from durable cursors, but after a restart the workers start only when an event is ' +
        'appended or a replay is requested: two readings tell catching up from stuck',
    },
    inspectRuns(),
    orphanRunsDecision('switch'),
    {
      id: 'catch_up_decision',
      kind: 'decision',
      title: 'Projections are behind and not moving',
      risk: 'read_only',
      when: { step: 'check_projections', output: 'state', in: ['behind_not_moving'] },
      prompt:
        'Projections have pending events and no cursor moved between two readings. After a restart DecisionGraph ' +
        'starts projection workers only when an event is appended or a replay is requested, so they will not ' +
        'catch up on their own while nothing writes.',
      evidenceFrom: ['check_projections'],
      options: [
        {
          id: 'catch_up',
          label: 'Request a catch_up replay of all projections',
          recommendedWhen: { step: 'check_projections', output: 'hasOpenFailures', in: [false] },
        },
        {
          id: 'switch_projections',
          label: 'Switch to the projections scenario (open failures need a closer look)',
          recommendedWhen: { step: 'check_projections', output: 'hasOpenFailures', in: [true] },
          effect: 'end:switched:projections',
        },
        { id: 'wait', label: 'No replay: wait for writes to start the workers', needsReason: true },
        { id: 'abort', label: 'Abort the run', effect: 'abort' },
      ],
    },
    {
      id: 'start_catch_up',
      kind: 'action',
      title: 'Request a catch_up replay',
      risk: 'safe_write',
      executor: 'dg.replay_start',
      idempotent: true,
      when: {
        any: [
          { decision: 'catch_up_decision', is: 'catch_up' },
          { decision: 'orphan_runs', is: 'retry' },
        ],
      },
      params: {
        mode: 'catch_up',
        projection: 'all',
        reason: {
          $ref: { from: 'decision', step: 'catch_up_decision', field: 'reason' },
          fallback: 'dg-recovery run {run_id}: catch_up after a node restart',
        },
      },
      why: 'A repeated request attaches to the running job (409 already running), so it is safe to repeat',
    },
    pollReplay('poll_catch_up', ['start_catch_up'], 1_800_000),
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
