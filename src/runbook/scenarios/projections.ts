import type { ScenarioInput } from '../scenario-schema.js';
import {
  ABORT_OPTION,
  checklistGate,
  inspectRuns,
  orphanRunsDecision,
  projectionProgress,
  READ_POLL,
  readTrace,
  rebuildOrCatchUp,
  traceIdParam,
} from './shared.js';

/** Cursors past the tail: the projection tables are newer than the event log, and only a rebuild repairs that. */
const cursorAhead = { step: 'inspect_cursors', output: 'hasCursorAhead', in: [true] } as const;

const rebuildIndicated = {
  any: [
    { step: 'inspect_failures', output: 'suggested', in: ['rebuild'] },
    { decision: 'orphan_runs', is: 'rebuild' },
    cursorAhead,
  ],
} as const;

/** Scenario 3: projection corruption or stale reads, for one tenant. */
export const projectionsScenario: ScenarioInput = {
  name: 'projections',
  version: 2,
  title: 'Projection corruption or stale reads',
  summary:
    'Projection health shows stale projections or open failures, or trace reads return 409: inspect health, ' +
    'failure rows and orphaned runs, decide catch_up (transient) or rebuild (semantic), run it with a reason, wait ' +
    'for the run to complete with pending_events 0, re-read the trace and graph, and close with the checklist.',
  aliases: ['projection', 'stale', 'replay'],
  scope: 'tenant',
  requires: ['traceId'],
  steps: [
    projectionProgress('inspect_health', 'Inspect projection health', undefined, 'projections are behind or failing'),
    {
      id: 'inspect_cursors',
      kind: 'probe',
      title: 'Look for projection cursors ahead of the event log',
      risk: 'read_only',
      executor: 'sql.cursor_ahead',
      why:
        'A cursor past the tail (projection tables newer than a restored event log) shows as pending 0 and not ' +
        'stale in projection health: only the SQL check of contract §5.4 sees it',
    },
    {
      id: 'inspect_failures',
      kind: 'probe',
      title: 'Inspect the open projection failure rows',
      risk: 'read_only',
      executor: 'sql.projection_failures',
      judge: 'failures.classify',
      why:
        'Storage errors are retried and cleared by a catch_up; hash mismatches, trace_seq gaps and schema ' +
        'violations stop a worker for good and point at a rebuild (or at the event log)',
    },
    inspectRuns(),
    {
      id: 'nothing_to_repair',
      kind: 'decision',
      title: 'Projections look healthy',
      risk: 'read_only',
      when: {
        all: [
          { step: 'inspect_health', output: 'state', in: ['current', 'catching_up'] },
          { step: 'inspect_failures', output: 'kinds', in: ['none'] },
          { step: 'inspect_runs', output: 'hasOrphans', in: [false] },
          { step: 'inspect_cursors', output: 'hasCursorAhead', in: [false] },
        ],
      },
      prompt:
        'Projections are current or catching up, with no open failures and no orphaned runs. There is nothing to ' +
        'replay; the checklist can confirm.',
      evidenceFrom: ['inspect_health', 'inspect_failures', 'inspect_runs'],
      options: [
        { id: 'check_only', label: 'Go to the checklist', recommended: true, effect: 'skip_to:gate' },
        { id: 'repair_anyway', label: 'Replay anyway', needsReason: true },
      ],
    },
    orphanRunsDecision('rebuild'),
    {
      id: 'replay_decision',
      kind: 'decision',
      title: 'Transient or semantic: catch_up or rebuild?',
      risk: 'read_only',
      prompt:
        'Catch_up when the projection tables are trusted but behind (a transient fault: storage, a restart). ' +
        'Rebuild when derived state is untrusted or a projector bug needs recomputing (a semantic fault: hash ' +
        'mismatch, trace_seq gap, schema violation), and when cursors are ahead of the event log (a catch_up ' +
        'starts at the cursor and cannot bring it back). A rebuild deletes the projection rows first and needs an ' +
        'approval. Either runs with the reason you give.',
      evidenceFrom: ['inspect_health', 'inspect_cursors', 'inspect_failures', 'inspect_runs'],
      options: [
        {
          id: 'catch_up',
          label: 'catch_up (transient)',
          needsReason: true,
          when: { not: cursorAhead },
          recommendedWhen: { not: rebuildIndicated },
        },
        { id: 'rebuild', label: 'rebuild (semantic)', needsReason: true, recommendedWhen: rebuildIndicated },
        ABORT_OPTION,
      ],
    },
    ...rebuildOrCatchUp({
      decision: 'replay_decision',
      approvalPrompt:
        'A rebuild deletes the projection rows and their failure rows of this tenant, then replays from log_seq 0. ' +
        'The failures below are re-read before it starts; if they changed, the approval is asked again.',
      approvalBoundTo: { step: 'inspect_failures', outputs: ['signature'] },
      rebuildProjection: { $ref: { from: 'step', step: 'inspect_failures', output: 'rebuildTarget' }, fallback: 'all' },
      rebuildWhy: 'A second request while it runs gets 409 and attaches to the running job',
      catchUpFallbackReason: 'dg-recovery run {run_id}: catch_up of stale projections',
      rebuildRefusedEnds: {
        when: cursorAhead,
        next:
          "enable rebuilds (admin_controls allow_rebuild) in DecisionGraph's config and restart DecisionGraph, " +
          'which reads its config only at boot; then run `projections` again. Until then projection reads may miss ' +
          'events appended since the restore.',
      },
    }),
    readTrace('reread_trace', 'Re-read the affected trace'),
    {
      id: 'reread_graph',
      kind: 'wait_until',
      title: "Re-read the trace's graph surface",
      risk: 'read_only',
      executor: 'dg.graph_read',
      judge: 'graph.readable',
      params: { nodeType: 'trace', nodeId: traceIdParam },
      poll: READ_POLL,
      deadlineMs: 120_000,
      why: 'Graph reads answer 409 while context_graph is stale, separately from trace reads',
    },
    checklistGate(),
  ],
};
