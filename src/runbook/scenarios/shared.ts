import type { Condition } from '../conditions.js';
import type { StepInput } from '../scenario-schema.js';

// Building blocks several scenarios share, so the same check reads the same everywhere.

export const traceIdParam = { $ref: { from: 'param', name: 'traceId' } } as const;
export const workflowIdParam = { $ref: { from: 'param', name: 'workflowId' } } as const;

/** A value a person types that later lands in a host action's argv or body: no shell metacharacters. */
export const ARGUMENT_PATTERN = '^[A-Za-z0-9._:/@+][A-Za-z0-9._:/@+-]*$';

/**
 * The backup listing named no artifact (it found none, or a person did it by hand): typing one is the way on,
 * so that option is recommended.
 */
export function noBackupsListed(step: string): Condition {
  return {
    any: [
      { step, output: 'count', in: [0] },
      { step, output: 'manual', in: [true] },
    ],
  };
}

export const WAIT_FOR_HEALTHZ_POLL = { initialMs: 2_000, maxMs: 15_000, factor: 2 };
export const REPLAY_POLL = { initialMs: 2_000, maxMs: 15_000, factor: 2 };

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
    deadlineMs: 300_000,
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
      'Replay run {job_id} ({mode} of {projection_name}) is marked {status}, but DecisionGraph has no live replay ' +
      'job: a crash or restart cut it off after {processed_events} events and it will never finish. It cannot be ' +
      'cancelled and does not block new runs.',
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

export function pollReplay(id: string, jobSteps: readonly string[], deadlineMs: number): StepInput {
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
    poll: { initialMs: 3_000, maxMs: 20_000, factor: 2 },
    deadlineMs: 180_000,
    why:
      'A 409 means the read model is behind (one unprojected event anywhere in the tenant blocks every trace read), ' +
      'not that the trace is lost; a 404 while projections are current means it is gone',
  };
}

export function checklistGate(): StepInput {
  return {
    id: 'gate',
    kind: 'gate',
    title: 'Recovery checklist',
    risk: 'safe_write',
    executor: 'gate.checklist',
    params: { traceId: traceIdParam, workflowId: workflowIdParam },
    poll: { initialMs: 5_000, maxMs: 30_000, factor: 2 },
    deadlineMs: 600_000,
    why:
      'The run is recovered only when the checklist passes: healthz 200 with the repo started, projections current ' +
      '(or visibly catching up), no open failures, no stuck runs, no cursor ahead of the tail, the known trace and ' +
      'workflow read. Reading the workflow makes DecisionGraph refresh its workflow tables, a write.',
  };
}

export function rebuildRefusedDecision(): StepInput {
  return {
    id: 'rebuild_refused',
    kind: 'decision',
    title: 'Rebuild forbidden by the deployment',
    risk: 'read_only',
    when: { step: 'start_rebuild', error: ['rebuild_forbidden'] },
    prompt:
      'DecisionGraph refused the rebuild with 403: this deployment forbids rebuilds (admin_controls allow_rebuild is ' +
      'off, the default outside dev, and no environment variable turns it on). A catch_up replay is allowed: it ' +
      're-verifies every event after the cursors but does not recompute what is already projected.',
    evidenceFrom: ['start_rebuild'],
    options: [
      { id: 'catch_up', label: 'Run a catch_up replay instead', recommended: true },
      { id: 'abort', label: 'Abort the run', effect: 'abort' },
    ],
  };
}
