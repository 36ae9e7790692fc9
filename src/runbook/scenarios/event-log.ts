import type { ScenarioInput, StepInput } from '../scenario-schema.js';
import {
  ABORT_OPTION,
  approveRestore,
  type BackupRound,
  checklistGate,
  chooseBackup,
  inspectRuns,
  listBackups,
  orphanRunsDecision,
  rebuildOrCatchUp,
  restartRuntime,
  restoreBackup,
  waitHealthzConnected,
} from './shared.js';

const rebuildIndicated = {
  any: [
    { step: 'verify_integrity', output: 'hasCursorAhead', in: [true] },
    { step: 'verify_integrity_again', output: 'hasCursorAhead', in: [true] },
    { step: 'verify_health', output: 'hasOpenFailures', in: [true] },
    { decision: 'orphan_runs', is: 'rebuild' },
  ],
} as const;

/** An orphaned run of the restored database retried: the catch_up is the fresh run that replaces it. */
const orphanRetried = { decision: 'orphan_runs', is: 'retry' } as const;

/** The restored backup carried the damage too: another one is chosen, listed again and approved anew. */
const ANOTHER_BACKUP: BackupRound = {
  list: 'list_backups_again',
  choose: 'choose_backup_again',
  approve: 'approve_restore_again',
  restore: 'restore_backup_again',
  when: { decision: 'restored_damaged', is: 'choose_another' },
};

function verifyRestoredLog(id: string, extra: Partial<StepInput> = {}): StepInput {
  return {
    id,
    kind: 'probe',
    title: 'Verify the restored log: no drift, no broken ordering, no cursor ahead of the tail',
    risk: 'read_only',
    executor: 'sql.integrity',
    judge: 'integrity.clean',
    timeoutMs: 300_000,
    why:
      'Checked before the runtime starts on it: a backup that carries the damage is replaced before anything ' +
      'reads it. A projection cursor ahead of the restored tail makes projection health look clean while it is not',
    ...extra,
  } as StepInput;
}

/** Scenario 4: suspected event-log damage. Never a write to the event log: restore, do not repair. */
export const eventLogScenario: ScenarioInput = {
  name: 'event-log',
  version: 2,
  title: 'Suspected event-log damage',
  summary:
    'Payload-hash drift, impossible trace ordering or parity doubts: gather the evidence, stop writes, preserve ' +
    'the broken database, restore a chosen backup, restart, verify health, trace reads, integrity, parity and ' +
    'cursors, decide about orphaned replay runs, rebuild projections if needed, let writers back in and close ' +
    'with the checklist. The event log is never repaired in place.',
  aliases: ['eventlog', 'log', 'restore'],
  scope: 'node',
  requires: ['traceId'],
  steps: [
    {
      id: 'gather_integrity',
      kind: 'probe',
      title: 'Gather the evidence: hash drift, impossible ordering, cursors',
      risk: 'read_only',
      confirms: 'the event log is damaged',
      executor: 'sql.integrity',
      judge: 'integrity.evidence',
      timeoutMs: 300_000,
      why: 'Nothing blocks UPDATE or DELETE on dg_event_log: tampering shows only as drift or broken ordering',
    },
    {
      id: 'gather_parity',
      kind: 'probe',
      title: 'Record the event count and tail before anything changes',
      risk: 'read_only',
      executor: 'sql.parity',
      judge: 'parity.record',
    },
    {
      id: 'no_damage',
      kind: 'decision',
      title: 'No damage found',
      risk: 'read_only',
      when: { step: 'gather_integrity', output: 'damage', in: ['none'] },
      prompt:
        'No payload-hash drift or impossible trace ordering was found. Restoring a backup loses every event ' +
        'appended since it was taken.',
      evidenceFrom: ['gather_integrity', 'gather_parity'],
      options: [
        { id: 'stop', label: 'Stop here: nothing to restore', recommended: true, effect: 'abort' },
        {
          id: 'switch_projections',
          label: 'Switch to the projections scenario (stale or corrupt read models)',
          effect: 'end:switched:projections',
        },
        { id: 'restore_anyway', label: 'Restore a backup anyway', needsReason: true },
      ],
    },
    {
      id: 'approve_stop_writes',
      kind: 'approval',
      title: 'Approve stopping writes',
      risk: 'read_only',
      prompt:
        'Stop every writer to DecisionGraph, so nothing lands in a log that is about to be replaced. DecisionGraph ' +
        'has no read-only mode: writers are its API clients, workflow reads and the operator console.',
      guards: 'stop_writes',
      fingerprintOf: { step: 'gather_integrity', outputs: ['signature'] },
    },
    {
      id: 'stop_writes',
      kind: 'action',
      title: 'Stop writes',
      risk: 'destructive',
      executor: 'host.stop_writes',
      idempotent: true,
      safetyCheckFor: ['restore_backup', 'restore_backup_again'],
      interruptedCheck:
        'whether every writer is stopped: the integrations and clients that append events are paused, or the load ' +
        'balancer is in maintenance mode',
    },
    {
      id: 'approve_preserve',
      kind: 'approval',
      title: 'Approve preserving the broken database',
      risk: 'read_only',
      prompt: 'Keep the damaged database for investigation before anything is restored over it.',
      guards: 'preserve_database',
      fingerprintOf: { step: 'gather_integrity', outputs: ['signature'] },
    },
    {
      id: 'preserve_database',
      kind: 'action',
      title: 'Preserve the broken database',
      risk: 'destructive',
      executor: 'host.preserve_database',
      idempotent: true,
      safetyCheckFor: ['restore_backup', 'restore_backup_again'],
      timeoutMs: 3_600_000,
      interruptedCheck:
        'whether the copy of the broken database exists and is complete (the dump or snapshot, its size)',
      why: 'The copy is named after the run, so a repeated attempt does not make a second one',
    },
    listBackups(),
    chooseBackup(
      'Choose the backup to restore',
      'Which backup should be restored? The latest known-good one loses the least; everything appended after it ' +
        'stays only in the preserved database.',
      ['list_backups', 'gather_parity'],
    ),
    approveRestore(
      'Approve the restore',
      "The chosen backup replaces DecisionGraph's database. The backup list is read again before the restore " +
        'starts; if it changed, the approval is asked again.',
    ),
    restoreBackup('Restore the chosen backup', 'pg_restore --clean --if-exists restores the same state when repeated'),
    // Damage the restored backup still shows does not pause the run: the decision after it offers another backup.
    verifyRestoredLog('verify_integrity', { continueOnFailure: ['event_log_damaged'] }),
    {
      id: 'restored_damaged',
      kind: 'decision',
      title: 'The restored backup is damaged too',
      risk: 'read_only',
      when: { step: 'verify_integrity', error: ['event_log_damaged'] },
      prompt:
        'The integrity check of the restored database still finds damage: the backup restored carries it too. ' +
        'Choose another backup: the list is read again with this one marked and never recommended, and its ' +
        'restore needs a new approval. The broken database is already preserved and is not copied again.',
      evidenceFrom: ['verify_integrity', 'choose_backup'],
      options: [{ id: 'choose_another', label: 'Choose another backup', recommended: true }, ABORT_OPTION],
    },
    listBackups(undefined, ANOTHER_BACKUP),
    chooseBackup(
      'Choose another backup to restore',
      'Which backup should be restored instead? The one restored before is marked; an older backup loses more of ' +
        'what was appended since, which stays only in the preserved database.',
      ['list_backups_again', 'verify_integrity'],
      ANOTHER_BACKUP,
    ),
    approveRestore(
      'Approve restoring another backup',
      "The newly chosen backup replaces DecisionGraph's database. The backup list is read again before the " +
        'restore starts; if it changed, the approval is asked again.',
      ANOTHER_BACKUP,
    ),
    restoreBackup(
      'Restore the other backup',
      'pg_restore --clean --if-exists restores the same state when repeated',
      ANOTHER_BACKUP,
    ),
    verifyRestoredLog('verify_integrity_again', {
      when: { step: 'restore_backup_again', status: ['passed'] },
      safetyCheckFor: ['start_rebuild'],
    }),
    restartRuntime({
      title: 'Restart DecisionGraph on the restored database',
      idempotent: true,
      why: 'Nothing of the damaged log may live on in memory; with writes stopped a second restart costs nothing',
    }),
    waitHealthzConnected('wait_healthz'),
    {
      id: 'verify_health',
      kind: 'probe',
      title: 'Verify projection health on the restored database',
      risk: 'read_only',
      executor: 'dg.projection_health',
      judge: 'projections.snapshot',
    },
    {
      id: 'verify_trace',
      kind: 'probe',
      title: 'Verify the known trace reads',
      risk: 'read_only',
      executor: 'dg.trace_read',
      judge: 'trace.status',
      params: { traceId: { $ref: { from: 'param', name: 'traceId' } } },
    },
    {
      id: 'verify_parity',
      kind: 'probe',
      title: 'Compare the restored log with the one before',
      risk: 'read_only',
      executor: 'sql.parity',
      judge: 'parity.compare',
      params: {
        referenceCount: { $ref: { from: 'step', step: 'gather_parity', output: 'eventCount' } },
        referenceMaxLogSeq: { $ref: { from: 'step', step: 'gather_parity', output: 'maxLogSeq' } },
      },
    },
    inspectRuns(),
    orphanRunsDecision('rebuild'),
    {
      id: 'rebuild_decision',
      kind: 'decision',
      title: 'Rebuild projections?',
      risk: 'read_only',
      prompt:
        'Rebuild only if the restored projections are missing or untrusted: a cursor ahead of the restored tail, ' +
        'open failures, or derived tables left out of the backup. Behind but trusted projections need only a ' +
        'catch_up, as does an orphaned replay run you chose to retry.',
      evidenceFrom: [
        'verify_health',
        'verify_trace',
        'verify_integrity',
        'verify_integrity_again',
        'verify_parity',
        'inspect_runs',
      ],
      options: [
        { id: 'rebuild', label: 'Rebuild all projections', needsReason: true, recommendedWhen: rebuildIndicated },
        {
          id: 'catch_up',
          label: 'catch_up replay only',
          needsReason: true,
          recommendedWhen: {
            all: [
              { not: rebuildIndicated },
              { any: [{ step: 'verify_health', output: 'state', in: ['behind'] }, orphanRetried] },
            ],
          },
        },
        {
          id: 'no_rebuild',
          label: 'No replay needed',
          recommendedWhen: {
            all: [
              { not: rebuildIndicated },
              { not: orphanRetried },
              { step: 'verify_health', output: 'state', in: ['current'] },
            ],
          },
        },
        ABORT_OPTION,
      ],
    },
    ...rebuildOrCatchUp({
      decision: 'rebuild_decision',
      approvalPrompt:
        'A rebuild deletes every projection row of the tenant and replays the restored log from log_seq 0.',
      approvalBoundTo: { step: 'verify_health', outputs: ['projections'] },
      rebuildProjection: 'all',
      catchUpFallbackReason: 'dg-recovery run {run_id}: catch_up after restoring a backup',
    }),
    {
      id: 'resume_writes',
      kind: 'action',
      title: 'Let writers back in',
      risk: 'safe_write',
      executor: 'manual',
      instructions:
        'Undo what stopped the writes (re-enable the integrations and clients, take the load balancer out of ' +
        'maintenance). DecisionGraph now runs on the restored database. Click Done when writers are back.',
      why: 'The runbook stops writes but never says to resume them; the checklist reads a workflow, which writes',
    },
    checklistGate(),
  ],
};
