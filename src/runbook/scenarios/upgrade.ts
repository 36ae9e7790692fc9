import type { ScenarioInput } from '../scenario-schema.js';
import {
  ABORT_OPTION,
  ARGUMENT_PATTERN,
  approveRestore,
  BOOT_DEADLINE_MS,
  catchUpIdleProjectors,
  checklistGate,
  chooseBackup,
  listBackups,
  restoreBackup,
  SQL_READ_FAILURES,
  WAIT_FOR_HEALTHZ_POLL,
  waitHealthzConnected,
} from './shared.js';

/** Scenario 5: a failed upgrade, rolled back the official way. */
export const upgradeScenario: ScenarioInput = {
  name: 'upgrade',
  version: 2,
  title: 'Failed upgrade (rollback)',
  summary:
    'The new release boots but smoke checks fail or reads regress: record which smoke checks fail, stop the ' +
    'upgraded runtime, read the event-log tail, restore the pre-upgrade backup, switch back to the previous known-good release, start it, ' +
    'decide about orphaned replay runs, catch up projections that stay behind, re-run the smoke checks and close ' +
    'with the checklist.',
  aliases: ['rollback', 'failed-upgrade'],
  scope: 'node',
  requires: ['traceId'],
  steps: [
    {
      id: 'smoke_before',
      kind: 'probe',
      title: 'Run the smoke checks and record which fail',
      risk: 'safe_write',
      confirms: 'smoke checks fail after the upgrade',
      executor: 'smoke.checks',
      judge: 'smoke.record',
      timeoutMs: 120_000,
      why: 'The replay-admission smoke check starts a catch_up, a write',
    },
    {
      id: 'smoke_ok',
      kind: 'decision',
      title: 'Every smoke check passes',
      risk: 'read_only',
      when: { step: 'smoke_before', output: 'allPassed', in: [true] },
      prompt:
        'Every smoke check passes on the new release. A rollback restores the pre-upgrade backup and loses what was ' +
        'written since.',
      evidenceFrom: ['smoke_before'],
      options: [
        { id: 'stop', label: 'Stop: no rollback needed', recommended: true, effect: 'abort' },
        { id: 'rollback_anyway', label: 'Roll back anyway', needsReason: true },
      ],
    },
    {
      id: 'approve_stop',
      kind: 'approval',
      title: 'Approve stopping the upgraded runtime',
      risk: 'read_only',
      prompt:
        'Stop the upgraded runtime. The smoke checks are run again first; if their results changed, you are asked again.',
      guards: 'stop_runtime',
      fingerprintOf: { step: 'smoke_before', outputs: ['failing'] },
    },
    {
      id: 'stop_runtime',
      kind: 'action',
      title: 'Stop the upgraded runtime',
      risk: 'destructive',
      executor: 'host.stop_runtime',
      safetyCheckFor: ['restore_backup', 'switch_release'],
      // A node asked to stop may take a while to let go: the re-check waits as long as the wait that follows.
      recheck: { executor: 'dg.healthz', judge: 'healthz.down', waitMs: 120_000, poll: WAIT_FOR_HEALTHZ_POLL },
      timeoutMs: 120_000,
    },
    {
      id: 'wait_stopped',
      kind: 'wait_until',
      title: 'Wait until the runtime no longer answers',
      risk: 'read_only',
      executor: 'dg.healthz',
      judge: 'healthz.down',
      poll: WAIT_FOR_HEALTHZ_POLL,
      deadlineMs: 120_000,
      safetyCheckFor: ['restore_backup', 'switch_release'],
      why: 'A restore under a running node would mix old memory with the restored tables',
    },
    {
      id: 'read_tail',
      kind: 'probe',
      title: 'Read the event-log tail the restore would cut back',
      risk: 'read_only',
      executor: 'sql.parity',
      judge: 'parity.record',
      // Only informs the restore approval: when Postgres cannot be read, the approval says the count is not known.
      continueOnFailure: [...SQL_READ_FAILURES],
      why: 'With the runtime stopped no more events land, so the restore approval can say how many it would lose',
    },
    listBackups({
      preferLabel: 'pre-upgrade',
      unlabelledOnlyBefore: {
        param: 'upgradedAt',
        what: 'the upgrade',
        given: 'upgraded_at=<time> (--upgraded-at in the terminal)',
      },
    }),
    chooseBackup(
      'Choose the pre-upgrade backup',
      'Which backup was taken right before the upgrade? Restoring a later one keeps data written by the new ' +
        'release, which the old one may not read.',
      ['list_backups'],
    ),
    approveRestore(
      'Approve restoring the pre-upgrade backup',
      "The chosen backup replaces DecisionGraph's database, losing what was written since it was taken.",
    ),
    restoreBackup('Restore the pre-upgrade backup'),
    {
      id: 'choose_release',
      kind: 'decision',
      title: 'Choose the release to return to',
      risk: 'read_only',
      prompt: 'Which release or git SHA was the last known-good one?',
      options: [
        {
          id: 'configured',
          label: 'Previous known-good release {value}',
          when: { param: 'previousRelease', present: true },
          recommended: true,
          value: { $ref: { from: 'param', name: 'previousRelease' } },
        },
        {
          id: 'other',
          label: 'Another release or git SHA',
          needsValue: { label: 'Release or git SHA', pattern: ARGUMENT_PATTERN, maxLength: 200 },
        },
        ABORT_OPTION,
      ],
    },
    {
      id: 'approve_switch',
      kind: 'approval',
      title: 'Approve switching the release',
      risk: 'read_only',
      prompt: 'Switch DecisionGraph to the chosen release.',
      guards: 'switch_release',
      fingerprintOf: { decisions: ['choose_release', 'choose_backup'] },
    },
    {
      id: 'switch_release',
      kind: 'action',
      title: 'Switch to the previous release',
      risk: 'destructive',
      executor: 'host.switch_release',
      idempotent: true,
      timeoutMs: 600_000,
      interruptedCheck: 'which release is deployed on the DecisionGraph host',
      params: { release: { $ref: { from: 'decision', step: 'choose_release', field: 'choice' } } },
    },
    {
      id: 'start_runtime',
      kind: 'action',
      title: 'Start the runtime',
      risk: 'safe_write',
      executor: 'host.start_runtime',
      recheck: { executor: 'dg.healthz', judge: 'healthz.up', waitMs: BOOT_DEADLINE_MS, poll: WAIT_FOR_HEALTHZ_POLL },
      timeoutMs: 120_000,
    },
    waitHealthzConnected('wait_healthz'),
    ...catchUpIdleProjectors({
      checkWhy:
        'A backup taken while projections lagged restores pending events, and after a start DecisionGraph starts ' +
        'projection workers only when an event is appended or a replay is requested',
      prompt:
        'The restored database has pending events and nothing moves them: no worker or replay job runs, or no ' +
        'cursor moved between two readings. DecisionGraph starts ' +
        'projection workers only when an event is appended or a replay is requested, so the smoke checks would ' +
        'fail on stale projections until then.',
      fallbackReason: 'dg-recovery run {run_id}: catch_up after restoring the pre-upgrade backup',
    }),
    {
      id: 'smoke_after',
      kind: 'probe',
      title: 'Re-run the smoke checks',
      risk: 'safe_write',
      executor: 'smoke.checks',
      judge: 'smoke.pass',
      timeoutMs: 120_000,
    },
    checklistGate({ integrity: true }),
  ],
};
