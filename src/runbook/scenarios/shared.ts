import { ErrorCode } from '../../errors.js';
import type { Condition } from '../conditions.js';
import type { JudgeName } from '../judges/index.js';
import type { ParamValue } from '../params.js';
import type { OptionSpecInput, StepInput } from '../scenario-schema.js';

// Building blocks several scenarios share, so the same check reads the same everywhere.

export const traceIdParam = { $ref: { from: 'param', name: 'traceId' } } as const;
export const workflowIdParam = { $ref: { from: 'param', name: 'workflowId' } } as const;

/** A value a person types that later lands in a host action's argv or body: no shell metacharacters. */
export const ARGUMENT_PATTERN = '^[A-Za-z0-9._:/@+][A-Za-z0-9._:/@+-]*$';

export const ABORT_OPTION: OptionSpecInput = { id: 'abort', label: 'Abort the run', effect: 'abort' };

/**
 * The backup listing named no artifact (it found none, or a person did it by hand): typing one is the way on,
 * so that option is recommended.
 */
function noBackupsListed(step: string): Condition {
  return {
    any: [
      { step, output: 'count', in: [0] },
      { step, output: 'manual', in: [true] },
    ],
  };
}

// Waits look soon and back off gently: a boot or a replay ends when it ends, and every poll late past it is time
// added to the outage. The maxima keep each wait within DecisionGraph's rate budget (docs/internals.md).

/** healthz has no rate limit: polled at least every 5 s. */
export const WAIT_FOR_HEALTHZ_POLL = { initialMs: 250, maxMs: 5_000, factor: 1.25 };
/** How long a node may take to boot: the deadline of the healthz wait after a restart or start. */
export const BOOT_DEADLINE_MS = 300_000;
/** Replay status shares the admin budget (60 a minute) with replay requests: at most 18 polls in any minute. */
export const REPLAY_POLL = { initialMs: 250, maxMs: 15_000, factor: 1.25 };
/** Reads (600 a minute): a trace or graph read that answers 409 until projections catch up. */
export const READ_POLL = { initialMs: 250, maxMs: 10_000, factor: 1.25 };
/** The checklist's reads are read-scope calls (healthz, projection health, trace, workflow) and SQL. */
const GATE_POLL = { initialMs: 250, maxMs: 15_000, factor: 1.25 };
const INTEGRITY_GATE_POLL = { initialMs: 1_000, maxMs: 30_000, factor: 1.5 };
/** Two projection readings when something on the node may be moving cursors: workers poll every second. */
export const PROGRESS_INTERVAL_MS = 3_000;

/** Why a read of DecisionGraph's Postgres can fail: unreachable, timed out, or the query refused. */
export const SQL_READ_FAILURES = [ErrorCode.SqlUnreachable, ErrorCode.SqlTimeout, ErrorCode.SqlQueryFailed] as const;

export function waitHealthzConnected(id: string, when?: Condition): StepInput {
  return {
    id,
    kind: 'wait_until',
    title: 'Wait until healthz is 200 with Postgres connected',
    risk: 'read_only',
    executor: 'dg.healthz',
    judge: 'healthz.db_connected',
    ...(when ? { when } : {}),
    poll: WAIT_FOR_HEALTHZ_POLL,
    deadlineMs: BOOT_DEADLINE_MS,
    why: 'healthz answers 200 even with Postgres down; only projection_health and repo_started? say the node is usable',
  };
}

export function inspectRuns(): StepInput {
  return {
    id: 'inspect_runs',
    kind: 'probe',
    title: 'Look for replay runs a crash left behind',
    risk: 'read_only',
    executor: 'dg.replay_inventory',
    judge: 'replay.orphans',
    why:
      'DecisionGraph never reconciles replay runs on boot: one cut off by a crash or restart stays queued or running ' +
      'forever, cannot be cancelled and would fail the checklist',
  };
}

export function orphanRunsDecision(rebuildOption: 'switch' | 'rebuild'): StepInput {
  return {
    id: 'orphan_runs',
    kind: 'decision',
    title: 'Decide about each orphaned replay run',
    risk: 'read_only',
    when: { step: 'inspect_runs', output: 'hasOrphans', in: [true] },
    forEach: {
      step: 'inspect_runs',
      output: 'orphans',
      id: 'job_id',
      label: '{job_id}: {mode} of {projection_name}, {status} since {requested_at}',
      acknowledgesRuns: true,
    },
    prompt:
      'Replay run {job_id} ({mode} of {projection_name}) is marked {status}, but no live replay job of ' +
      'DecisionGraph owns it: a crash or restart cut it off after {processed_events} events and it will never ' +
      'finish. It cannot be cancelled and does not block new runs.',
    evidenceFrom: ['inspect_runs'],
    options: [
      {
        id: 'ignore',
        label: 'Ignore it',
        detail: 'The row stays; the checklist lists it as decided instead of failing',
      },
      {
        id: 'retry',
        label: 'Retry: start a fresh catch_up',
        detail: 'A catch_up resumes from the durable cursors and reaches the tail',
        recommended: true,
      },
      rebuildOption === 'switch'
        ? {
            id: 'rebuild',
            label: 'Replace it with a rebuild (switch to the projections scenario)',
            effect: 'end:switched:projections',
          }
        : { id: 'rebuild', label: 'Replace it with a rebuild', detail: 'Recommends a rebuild at the next decision' },
    ],
  };
}

function pollReplay(id: string, jobSteps: readonly string[], deadlineMs: number): StepInput {
  return {
    id,
    kind: 'wait_until',
    title: 'Wait until the replay run completes and pending_events is 0',
    risk: 'read_only',
    executor: 'dg.replay_poll',
    judge: 'replay.finished',
    when: { any: jobSteps.map((s) => ({ step: s, status: ['passed'] })) },
    params: { jobId: { $ref: { from: 'step', step: [...jobSteps], output: 'jobId' } } },
    poll: REPLAY_POLL,
    deadlineMs,
    why:
      'Both must hold: a failed rebuild shows 0 open failures (it deleted them) and only the run row tells; replay ' +
      'polling shares the admin budget of 60 calls a minute',
  };
}

export function readTrace(id: string, title: string): StepInput {
  return {
    id,
    kind: 'wait_until',
    title,
    risk: 'read_only',
    executor: 'dg.trace_read',
    judge: 'trace.readable',
    params: { traceId: traceIdParam },
    poll: READ_POLL,
    deadlineMs: 180_000,
    why:
      'A 409 means the read model is behind (one unprojected event anywhere in the tenant blocks every trace read), ' +
      'not that the trace is lost; a 404 while projections are current means it is gone',
  };
}

/** `integrity`: the scenario restores a backup, so the checklist scans the event log again. */
export function checklistGate(opts: { integrity?: true } = {}): StepInput {
  return {
    id: 'gate',
    kind: 'gate',
    title: 'Recovery checklist',
    risk: 'safe_write',
    executor: 'gate.checklist',
    params: {
      traceId: traceIdParam,
      workflowId: workflowIdParam,
      since: { $ref: { from: 'run', field: 'startedAt' } },
      ...(opts.integrity ? { integrity: true } : {}),
    },
    // Each reading after a restore scans the whole event log again: those look less often.
    poll: opts.integrity ? INTEGRITY_GATE_POLL : GATE_POLL,
    deadlineMs: 600_000,
    why:
      'The run is recovered only when the checklist passes: healthz 200 with the repo started, projections current ' +
      '(or visibly catching up), no open failures, no stuck runs, no cursor ahead of the tail, the known trace and ' +
      'workflow read. Reading the workflow makes DecisionGraph refresh its workflow tables, a write.',
  };
}

const REBUILD_REFUSED: Condition = { step: 'start_rebuild', error: ['rebuild_forbidden'] };

function rebuildRefusedDecision(endsRun: RebuildRefusedEnds | undefined): StepInput {
  return {
    id: 'rebuild_refused',
    kind: 'decision',
    title: 'Rebuild forbidden by the deployment',
    risk: 'read_only',
    when: endsRun === undefined ? REBUILD_REFUSED : { all: [REBUILD_REFUSED, { not: endsRun.when }] },
    prompt:
      'DecisionGraph refused the rebuild with 403: this deployment forbids rebuilds (admin_controls allow_rebuild is ' +
      'off, the default outside dev, and no environment variable turns it on). A catch_up replay is allowed: it ' +
      're-verifies every event after the cursors but does not recompute what is already projected.',
    evidenceFrom: ['start_rebuild'],
    options: [{ id: 'catch_up', label: 'Run a catch_up replay instead', recommended: true }, ABORT_OPTION],
  };
}

/** The option a person picks to take the catch_up path. */
export interface CatchUpChoice {
  readonly decision: string;
  readonly is: string;
}

export interface CatchUpReplay {
  readonly id: string;
  readonly title: string;
  /** The decision whose `catch_up` option leads here; its reason goes with the request. */
  readonly decision: string;
  /** The other choice that leads here (an orphan run retried, a refused rebuild replaced). */
  readonly orChoice: CatchUpChoice;
  /** The reason sent when the decision recorded none. */
  readonly fallbackReason: string;
  readonly why?: string;
}

function startCatchUp(spec: CatchUpReplay): StepInput {
  return {
    id: spec.id,
    kind: 'action',
    title: spec.title,
    risk: 'safe_write',
    executor: 'dg.replay_start',
    idempotent: true,
    when: { any: [{ decision: spec.decision, is: 'catch_up' }, spec.orChoice] },
    params: {
      mode: 'catch_up',
      projection: 'all',
      reason: { $ref: { from: 'decision', step: spec.decision, field: 'reason' }, fallback: spec.fallbackReason },
    },
    ...(spec.why !== undefined ? { why: spec.why } : {}),
  };
}

/**
 * The rebuild the `rebuild` option of `decision` asks for; a deployment that forbids it leads to a decision, or
 * ends the run when nothing but a rebuild can help (`endsRun`).
 */
function startRebuild(
  decision: string,
  projection: ParamValue,
  why: string | undefined,
  endsRun: RebuildRefusedEnds | undefined,
): StepInput {
  return {
    id: 'start_rebuild',
    kind: 'action',
    title: 'Request the rebuild',
    risk: 'destructive',
    executor: 'dg.replay_start',
    idempotent: true,
    when: { decision, is: 'rebuild' },
    continueOnFailure: ['rebuild_forbidden'],
    ...(endsRun !== undefined
      ? { endRunOn: [{ error: ['rebuild_forbidden'], when: endsRun.when, next: endsRun.next }] }
      : {}),
    params: {
      mode: 'rebuild',
      projection,
      reason: { $ref: { from: 'decision', step: decision, field: 'reason' } },
    },
    ...(why !== undefined ? { why } : {}),
  };
}

/** Which listed backup to recommend, besides the newest taken before the run. */
export interface BackupPreference {
  /** Prefer the newest whose label contains this. */
  readonly preferLabel: string;
  /**
   * A backup without the label is recommended only when taken before this run parameter's time (none when the
   * parameter is not given): `what` names the event, `given` says how to give its time.
   */
  readonly unlabelledOnlyBefore?: { readonly param: string; readonly what: string; readonly given: string };
}

/** The step ids of one round of choosing and restoring a backup; a second round (another backup) has its own. */
export interface BackupRound {
  readonly list: string;
  readonly choose: string;
  readonly approve: string;
  readonly restore: string;
  /** Only when this holds (a later round). */
  readonly when?: Condition;
}

export const FIRST_BACKUP_ROUND: BackupRound = {
  list: 'list_backups',
  choose: 'choose_backup',
  approve: 'approve_restore',
  restore: 'restore_backup',
};

export function listBackups(preference?: BackupPreference, round: BackupRound = FIRST_BACKUP_ROUND): StepInput {
  const before = preference?.unlabelledOnlyBefore;
  return {
    id: round.list,
    ...(round.when ? { when: round.when } : {}),
    kind: 'action',
    title: 'List the backup artifacts',
    risk: 'read_only',
    executor: 'host.list_backups',
    judge: 'backups.list',
    ...(preference !== undefined
      ? {
          expected: {
            preferLabel: preference.preferLabel,
            ...(before ? { unlabelledOnlyBefore: { what: before.what, given: before.given } } : {}),
          },
        }
      : {}),
    ...(before ? { params: { takenBefore: { $ref: { from: 'param', name: before.param } } } } : {}),
  };
}

/** One option per listed artifact, plus typing one by hand (recommended when the listing found none). */
export function chooseBackup(
  title: string,
  prompt: string,
  evidenceFrom: readonly string[],
  round: BackupRound = FIRST_BACKUP_ROUND,
): StepInput {
  return {
    id: round.choose,
    kind: 'decision',
    title,
    risk: 'read_only',
    ...(round.when ? { when: round.when } : {}),
    prompt,
    optionsFrom: {
      step: round.list,
      output: 'artifacts',
      id: 'id',
      label: '{display}',
      recommendedFrom: 'preferred',
    },
    evidenceFrom: [...evidenceFrom],
    options: [
      {
        id: 'other',
        label: 'Another artifact (type its id or path)',
        recommendedWhen: noBackupsListed(round.list),
        needsValue: { label: 'Backup id or path', pattern: ARGUMENT_PATTERN, maxLength: 300 },
      },
      ABORT_OPTION,
    ],
  };
}

/** Bound to the listing and the choice: a listing that changed before the restore asks again. */
export function approveRestore(title: string, prompt: string, round: BackupRound = FIRST_BACKUP_ROUND): StepInput {
  return {
    id: round.approve,
    kind: 'approval',
    title,
    risk: 'read_only',
    ...(round.when ? { when: round.when } : {}),
    prompt,
    guards: round.restore,
    fingerprintOf: { step: round.list, outputs: ['artifacts'], decisions: [round.choose] },
  };
}

export function restoreBackup(title: string, why?: string, round: BackupRound = FIRST_BACKUP_ROUND): StepInput {
  return {
    id: round.restore,
    kind: 'action',
    title,
    risk: 'destructive',
    ...(round.when ? { when: round.when } : {}),
    executor: 'host.restore_backup',
    idempotent: true,
    timeoutMs: 3_600_000,
    interruptedCheck:
      "whether the restore finished without errors (the restore tool's log) and which backup DecisionGraph's " +
      'Postgres now holds (its newest events, the event count)',
    params: { artifact: { $ref: { from: 'decision', step: round.choose, field: 'choice' } } },
    ...(why !== undefined ? { why } : {}),
  };
}

/**
 * Projection health, with healthz alongside, read until it tells current, catching up, or behind and not moving:
 * one reading when nothing on the node can move a cursor, two otherwise.
 */
export function projectionProgress(id: string, title: string, why?: string, confirms?: string): StepInput {
  return {
    id,
    kind: 'probe',
    title,
    risk: 'read_only',
    ...(confirms !== undefined ? { confirms } : {}),
    executor: 'dg.projection_health',
    judge: 'projections.progress',
    params: { projector: true },
    poll: { initialMs: PROGRESS_INTERVAL_MS, maxMs: PROGRESS_INTERVAL_MS, factor: 1 },
    deadlineMs: 120_000,
    ...(why !== undefined ? { why } : {}),
  };
}

export interface RebuildOrCatchUp {
  /** The decision offering `rebuild` and `catch_up`; its reason goes with the request. */
  readonly decision: string;
  readonly approvalPrompt: string;
  /** The step outputs the approval is bound to, besides the decision: if they change, it is asked again. */
  readonly approvalBoundTo: { readonly step: string; readonly outputs: readonly string[] };
  readonly rebuildProjection: ParamValue;
  readonly rebuildWhy?: string;
  readonly catchUpFallbackReason: string;
  /** When a refused rebuild leaves nothing to try: the run ends, naming the manual next step. */
  readonly rebuildRefusedEnds?: RebuildRefusedEnds;
}

export interface RebuildRefusedEnds {
  /** Holds when only a rebuild can repair what was found (a catch_up would not help). */
  readonly when: Condition;
  /** What people must do, e.g. enable rebuilds and run the scenario again. */
  readonly next: string;
}

/**
 * The replay a decision picked: an approved rebuild (a deployment that forbids it offers a catch_up instead) or a
 * catch_up, then waiting for the run to finish.
 */
export function rebuildOrCatchUp(spec: RebuildOrCatchUp): StepInput[] {
  return [
    {
      id: 'approve_rebuild',
      kind: 'approval',
      title: 'Approve the rebuild',
      risk: 'read_only',
      when: { decision: spec.decision, is: 'rebuild' },
      prompt: spec.approvalPrompt,
      guards: 'start_rebuild',
      fingerprintOf: {
        step: spec.approvalBoundTo.step,
        outputs: [...spec.approvalBoundTo.outputs],
        decisions: [spec.decision],
      },
    },
    startRebuild(spec.decision, spec.rebuildProjection, spec.rebuildWhy, spec.rebuildRefusedEnds),
    rebuildRefusedDecision(spec.rebuildRefusedEnds),
    startCatchUp({
      id: 'start_catch_up',
      title: 'Request the catch_up replay',
      decision: spec.decision,
      orChoice: { decision: 'rebuild_refused', is: 'catch_up' },
      fallbackReason: spec.catchUpFallbackReason,
    }),
    pollReplay('poll_replay', ['start_catch_up', 'start_rebuild'], 3_600_000),
  ];
}

export interface StuckProjections {
  readonly id: string;
  readonly title: string;
  readonly prompt: string;
  readonly catchUp: Pick<OptionSpecInput, 'label' | 'needsReason'>;
  /** Going on without a replay, always with a reason. */
  readonly noReplay: { readonly id: string; readonly label: string };
}

/**
 * Asked when two projection readings (`check_projections`) show pending events and no cursor moving: a catch_up
 * unless open failures point at the projections scenario.
 */
function stuckProjectionsDecision(spec: StuckProjections): StepInput {
  return {
    id: spec.id,
    kind: 'decision',
    title: spec.title,
    risk: 'read_only',
    when: { step: 'check_projections', output: 'state', in: ['behind_not_moving'] },
    prompt: spec.prompt,
    evidenceFrom: ['check_projections'],
    options: [
      {
        id: 'catch_up',
        ...spec.catchUp,
        recommendedWhen: { step: 'check_projections', output: 'hasOpenFailures', in: [false] },
      },
      {
        id: 'switch_projections',
        label: 'Switch to the projections scenario (open failures need a closer look)',
        recommendedWhen: { step: 'check_projections', output: 'hasOpenFailures', in: [true] },
        effect: 'end:switched:projections',
      },
      { ...spec.noReplay, needsReason: true },
      ABORT_OPTION,
    ],
  };
}

export interface RuntimeRestart {
  /** @defaultValue 'Restart the DecisionGraph runtime' */
  readonly title?: string;
  readonly idempotent?: true;
  readonly when?: Condition;
  /** How healthz must look for an earlier attempt to count as done; without it the restart is never rechecked. */
  readonly recheckJudge?: JudgeName;
  readonly why?: string;
}

/**
 * The host action that restarts the runtime (no DecisionGraph API does). Its re-check after an interruption waits
 * for the node to boot before it concludes that the restart did not happen.
 */
export function restartRuntime(spec: RuntimeRestart): StepInput {
  return {
    id: 'restart_runtime',
    kind: 'action',
    title: spec.title ?? 'Restart the DecisionGraph runtime',
    risk: 'safe_write',
    executor: 'host.restart_runtime',
    ...(spec.idempotent ? { idempotent: true } : {}),
    ...(spec.when ? { when: spec.when } : {}),
    ...(spec.recheckJudge
      ? {
          recheck: {
            executor: 'dg.healthz',
            judge: spec.recheckJudge,
            waitMs: BOOT_DEADLINE_MS,
            poll: WAIT_FOR_HEALTHZ_POLL,
          },
        }
      : {}),
    timeoutMs: 120_000,
    interruptedCheck: "whether the runtime restarted: its process start time, or the supervisor's log",
    ...(spec.why !== undefined ? { why: spec.why } : {}),
  };
}

export interface CatchUpIfStuck {
  /** The reading (or two) of `check_projections`. */
  readonly check: { readonly title: string; readonly why?: string };
  readonly decision: StuckProjections;
  /** The catch_up request, made when the decision says so or an orphaned run is retried. */
  readonly replay: Omit<CatchUpReplay, 'decision' | 'orChoice'>;
  readonly pollId: string;
}

/**
 * Once the runtime is back: are projections current or catching up? Orphaned replay runs are decided one by one;
 * projections behind and not moving get a catch_up (a person decides), then the run waits for it to finish.
 */
export function catchUpIfStuck(spec: CatchUpIfStuck): StepInput[] {
  return [
    projectionProgress('check_projections', spec.check.title, spec.check.why),
    inspectRuns(),
    orphanRunsDecision('switch'),
    stuckProjectionsDecision(spec.decision),
    startCatchUp({ ...spec.replay, decision: spec.decision.id, orChoice: { decision: 'orphan_runs', is: 'retry' } }),
    pollReplay(spec.pollId, [spec.replay.id], 1_800_000),
  ];
}

export interface IdleProjectors {
  /** Why projection progress is checked, in this scenario's words. */
  readonly checkWhy: string;
  /** The decision's prompt: why the projections are behind and will not move. */
  readonly prompt: string;
  readonly fallbackReason: string;
  readonly replayWhy?: string;
}

/**
 * After the runtime (re)starts: the projectors stay idle until an append or a replay (contract §8), so projections
 * behind and not moving get a catch_up a person decides about, the same steps in every scenario that starts it.
 */
export function catchUpIdleProjectors(spec: IdleProjectors): StepInput[] {
  return catchUpIfStuck({
    check: { title: 'Check projection health: current, catching up or stuck?', why: spec.checkWhy },
    decision: {
      id: 'catch_up_decision',
      title: 'Projections are behind and not moving',
      prompt: spec.prompt,
      catchUp: { label: 'Request a catch_up replay of all projections' },
      noReplay: { id: 'wait', label: 'No replay: wait for writes to start the workers' },
    },
    replay: {
      id: 'start_catch_up',
      title: 'Request a catch_up replay',
      fallbackReason: spec.fallbackReason,
      ...(spec.replayWhy !== undefined ? { why: spec.replayWhy } : {}),
    },
    pollId: 'poll_catch_up',
  });
}
