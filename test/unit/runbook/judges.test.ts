import { describe, expect, it } from 'vitest';
import {
  type BackupArtifact,
  type ChecklistMeasurement,
  type HealthzBody,
  INTEGRITY_CHECKS,
  type JudgeContext,
  type JudgeName,
  MAX_ARTIFACT_LABEL,
  type Measurement,
  type ProjectionHealthBody,
  type ReplayInventoryMeasurement,
  RunEventSchema,
  type RuntimeBehaviour,
  runJudge,
  type Verdict,
} from '../../../src/runbook/index.js';
import { judgeContext } from '../../helpers/judge-context.js';
import {
  failed,
  healthz,
  ok,
  openRun,
  projectionHealth,
  replayRun,
  trace404,
  trace409,
  traceOk,
  unreachable,
} from './fixtures.js';

const NOW = new Date('2026-03-07T12:00:00.000Z');

function ctx(over: Partial<JudgeContext> = {}): JudgeContext {
  return judgeContext('dg.healthz', { now: NOW, ...over });
}

function conditions(v: Verdict): string[] {
  const failing = v.result === 'failed' ? v.outputs?.failing : undefined;
  return Array.isArray(failing) ? failing.map((f) => String((f as { condition?: unknown }).condition)) : [];
}

function judge(name: JudgeName, m: Measurement, over: Partial<JudgeContext> = {}): Verdict {
  const verdict = runJudge(name, m, ctx(over));
  // Whatever a judge says becomes event content: it must be plain JSON the event schema accepts.
  const body =
    verdict.result === 'manual'
      ? { type: 'manual_action_requested', attempt: 1, instructions: verdict.instructions }
      : verdict.result === 'failed'
        ? {
            type: 'step_failed',
            attempt: 1,
            error: verdict.error,
            transient: verdict.transient,
            ...(verdict.outputs ? { outputs: verdict.outputs } : {}),
          }
        : { type: 'step_passed', attempt: 1, outputs: verdict.outputs };
  RunEventSchema.parse({ ...body, runId: 'r', seq: 2, at: NOW.toISOString(), stepId: 's', evidence: verdict.evidence });
  return verdict;
}

describe('healthz judges', () => {
  it('does not take a 200 for a healthy node when projection health is unavailable', () => {
    const down = healthz({ dbDown: true });
    expect(judge('healthz.symptoms', down)).toMatchObject({
      result: 'passed',
      outputs: { healthz: 'db_unavailable', status: 200 },
    });
    expect(judge('healthz.up', down).result).toBe('passed');
    const connected = judge('healthz.db_connected', down);
    expect(connected).toMatchObject({ result: 'waiting', outputs: { reconnected: false } });
    const item = connected.evidence.find((e) => e.label === 'healthz projection_health');
    expect(item).toMatchObject({ ok: false, expected: 'available' });
    expect(item?.detail).toContain('200 even when Postgres is down');
  });

  it('waits while nothing answers and records the transport failure', () => {
    const v = judge('healthz.up', unreachable<HealthzBody>());
    expect(v).toMatchObject({ result: 'waiting', outputs: { healthz: 'unreachable', status: null } });
    expect(v.evidence[0]).toMatchObject({
      measured: 'no answer (DG_ERR_API_UNREACHABLE)',
      expected: 200,
      ok: false,
      source: { kind: 'http', path: '/api/healthz' },
    });
    expect(judge('healthz.down', unreachable<HealthzBody>()).result).toBe('passed');
    expect(judge('healthz.down', healthz()).result).toBe('waiting');
  });

  it('needs the repo started for a connected runtime', () => {
    expect(judge('healthz.db_connected', healthz({ repoStarted: false })).result).toBe('waiting');
    expect(judge('healthz.db_connected', healthz())).toMatchObject({
      result: 'passed',
      outputs: { healthz: 'up', reconnected: true },
    });
  });
});

describe('projection health over two samples', () => {
  const first = (h: ReturnType<typeof projectionHealth>) =>
    judge('projections.progress', ok(h), { executor: 'dg.projection_health' });

  it('passes at once when every projection is current', () => {
    expect(first(projectionHealth())).toMatchObject({
      result: 'passed',
      outputs: { state: 'current', pendingTotal: 0 },
    });
  });

  it('tells catching up from behind and not moving by the cursors', () => {
    const one = first(projectionHealth({ cursors: { trace_summary: 2150 } }));
    expect(one).toMatchObject({ result: 'waiting', outputs: { state: 'sampling', pendingTotal: 18 } });
    const progress = one.result === 'waiting' ? one.progress : undefined;
    const moved = judge('projections.progress', ok(projectionHealth({ cursors: { trace_summary: 2160 } })), {
      executor: 'dg.projection_health',
      progress,
    });
    expect(moved).toMatchObject({
      result: 'passed',
      outputs: { state: 'catching_up', pendingTotal: 8, pendingBefore: 18 },
    });
    const stuck = judge('projections.progress', ok(projectionHealth({ cursors: { trace_summary: 2150 } })), {
      executor: 'dg.projection_health',
      progress,
    });
    expect(stuck).toMatchObject({ result: 'passed', outputs: { state: 'behind_not_moving' } });
    expect(stuck.evidence.at(-1)?.detail).toContain('only on a write or a replay');
    // New writes raise the tail while nothing projects: still not moving.
    const grown = judge(
      'projections.progress',
      ok(
        projectionHealth({ tail: 2200, cursors: { context_graph: 2168, trace_summary: 2150, precedent_index: 2168 } }),
      ),
      { executor: 'dg.projection_health', progress },
    );
    expect(grown.result === 'passed' && grown.outputs.state).toBe('behind_not_moving');
  });

  it('fails with the call error when projection health cannot be read', () => {
    const v = judge(
      'projections.snapshot',
      failed<ProjectionHealthBody>('DG_ERR_API_INTERNAL', 500, { message: 'DBConnection' }),
    );
    expect(v).toMatchObject({ result: 'failed', error: { code: 'DG_ERR_API_INTERNAL' }, transient: true });
  });
});

describe('trace read', () => {
  it('reads a 409 as projections behind, not as a lost trace', () => {
    const v = judge('trace.readable', trace409(2150, 2168), { executor: 'dg.trace_read' });
    expect(v).toMatchObject({ result: 'waiting', outputs: { trace: 'projections_behind', cursor: 2150, tail: 2168 } });
    expect(v.evidence[0]?.detail).toContain('the trace is not lost');
    expect(judge('trace.status', trace409(), { executor: 'dg.trace_read' })).toMatchObject({
      result: 'passed',
      outputs: { trace: 'projections_behind' },
    });
  });

  it('passes on 200 and fails a 404 as a missing trace', () => {
    expect(judge('trace.readable', traceOk(), { executor: 'dg.trace_read' })).toMatchObject({
      result: 'passed',
      outputs: { trace: 'readable', eventCount: 3 },
    });
    expect(judge('trace.readable', trace404(), { executor: 'dg.trace_read' })).toMatchObject({
      result: 'failed',
      error: { code: 'trace_missing' },
      transient: false,
    });
  });
});

describe('replay judges', () => {
  const poll = (run: ReturnType<typeof replayRun>, health = projectionHealth()) =>
    judge('replay.finished', { run: ok({ run }), health: ok(health) }, { executor: 'dg.replay_poll' });

  it('passes only when the run completed and pending_events is 0', () => {
    expect(poll(replayRun({ status: 'completed', processed_events: 18 }))).toMatchObject({
      result: 'passed',
      outputs: { status: 'completed', pendingTotal: 0 },
    });
    expect(
      poll(replayRun({ status: 'completed' }), projectionHealth({ cursors: { trace_summary: 2160 } })),
    ).toMatchObject({ result: 'waiting', outputs: { pendingTotal: 8 } });
    expect(poll(replayRun({ status: 'running' })).result).toBe('waiting');
    expect(poll(replayRun({ status: 'queued' })).result).toBe('waiting');
  });

  it('fails a failed run even when open failures read 0, as a failed rebuild leaves them', () => {
    const v = poll(
      replayRun({
        status: 'failed',
        mode: 'rebuild',
        error_code: 'conflict',
        error_message: 'Payload hash mismatch for event ev-9',
      }),
    );
    expect(v).toMatchObject({ result: 'failed', transient: false, error: { code: 'replay_failed' } });
    expect(v.result === 'failed' && v.error.message).toContain('Payload hash mismatch');
    expect(poll(replayRun({ status: 'cancelled' }))).toMatchObject({
      result: 'failed',
      error: { code: 'replay_cancelled' },
    });
  });

  it('fails when the replay job is unknown', () => {
    const v = judge(
      'replay.finished',
      { run: failed('DG_ERR_API_NOT_FOUND', 404, { transient: false }) },
      { executor: 'dg.replay_poll' },
    );
    expect(v).toMatchObject({ result: 'failed', error: { code: 'replay_job_missing' }, transient: false });
  });

  it('admits a replay, attaches on 409, and names a rebuild the deployment forbids', () => {
    const request = { mode: 'catch_up', projection: 'all', reason: 'drill' };
    expect(
      judge(
        'replay.admitted',
        { request, result: ok({ run: replayRun() }, 'POST', '/api/v1/admin/replays', 202) },
        { executor: 'dg.replay_start' },
      ),
    ).toMatchObject({
      result: 'passed',
      outputs: { jobId: 'replay-5763', attached: false },
    });
    const conflict = failed<{ run: ReturnType<typeof replayRun> }>('DG_ERR_API_CONFLICT', 409, {
      dgMessage: 'A replay job is already running for default/:all',
      transient: false,
    });
    const attached = judge(
      'replay.admitted',
      {
        request,
        result: conflict,
        openRuns: [
          openRun({ job_id: 'replay-1', requested_at: '2026-03-07T10:00:00Z' }),
          openRun({ job_id: 'replay-2', requested_at: '2026-03-07T11:00:00Z' }),
        ],
      },
      { executor: 'dg.replay_start' },
    );
    expect(attached).toMatchObject({ result: 'passed', outputs: { jobId: 'replay-2', attached: true } });
    expect(
      judge('replay.admitted', { request, result: conflict, openRuns: [] }, { executor: 'dg.replay_start' }),
    ).toMatchObject({
      result: 'failed',
      error: { code: 'replay_already_running' },
      transient: true,
    });
    const forbidden = failed<{ run: ReturnType<typeof replayRun> }>('DG_ERR_API_FORBIDDEN', 403, {
      dgMessage: 'Projection rebuilds are disabled in this deployment',
      transient: false,
    });
    expect(
      judge(
        'replay.admitted',
        { request: { ...request, mode: 'rebuild' }, result: forbidden },
        { executor: 'dg.replay_start' },
      ),
    ).toMatchObject({
      result: 'failed',
      error: { code: 'rebuild_forbidden' },
      transient: false,
    });
    const noPermission = failed<{ run: ReturnType<typeof replayRun> }>('DG_ERR_API_FORBIDDEN', 403, {
      dgMessage: 'Service account lacks projection_replay permission',
      transient: false,
    });
    expect(judge('replay.admitted', { request, result: noPermission }, { executor: 'dg.replay_start' })).toMatchObject({
      result: 'failed',
      error: { code: 'DG_ERR_API_FORBIDDEN' },
    });
  });

  it('calls open runs orphans only when no replay job is live, and never the run itself started', () => {
    const runs = [openRun({ job_id: 'replay-17' }), openRun({ job_id: 'replay-99' })];
    const m = (active: number) => ({
      healthz: healthz({ activeReplayJobs: active }),
      projectionHealth: ok(projectionHealth({ openRuns: runs })),
    });
    const none = judge('replay.orphans', m(0), { executor: 'dg.replay_inventory', ownReplayJobIds: ['replay-99'] });
    expect(none).toMatchObject({
      result: 'passed',
      outputs: { hasOrphans: true, orphanCount: 1, orphans: [{ job_id: 'replay-17', processed_events: 120 }] },
    });
    const live = judge('replay.orphans', m(1), { executor: 'dg.replay_inventory' });
    expect(live).toMatchObject({ result: 'passed', outputs: { hasOrphans: false, openRuns: 2 } });
  });

  it("finds a tenant's orphan while another tenant's replay is live, by matching live jobs to the newest rows", () => {
    // The tenant's run was cut off by the 09:41 restart; tenant t2's catch_up was admitted after it and is live.
    const orphan = openRun({ job_id: 'replay-17', requested_at: '2026-03-07T09:30:00Z', tenant_id: 'default' });
    const otherLive = openRun({ job_id: 'replay-40', requested_at: '2026-03-07T11:58:00Z', tenant_id: 't2' });
    const m = (sql: ReplayInventoryMeasurement['sql'], activeAfter?: number): ReplayInventoryMeasurement => ({
      healthz: healthz({ activeReplayJobs: 1 }),
      projectionHealth: ok(projectionHealth({ openRuns: [orphan] })),
      ...(sql ? { sql } : {}),
      ...(activeAfter !== undefined ? { activeAfter } : {}),
    });
    const found = judge('replay.orphans', m({ openRuns: [otherLive, orphan] }), { executor: 'dg.replay_inventory' });
    expect(found).toMatchObject({
      result: 'passed',
      outputs: { hasOrphans: true, orphans: [{ job_id: 'replay-17' }], activeReplayJobs: 1 },
    });
    expect(found.evidence[0]?.detail).toContain('1 of them in other tenants');
    // Its own tenant's newest row is the live one: not an orphan.
    const ownLive = openRun({ job_id: 'replay-41', requested_at: '2026-03-07T11:59:00Z', tenant_id: 'default' });
    const tenantLive = {
      ...m({ openRuns: [ownLive, otherLive] }),
      projectionHealth: ok(projectionHealth({ openRuns: [ownLive] })),
    };
    expect(judge('replay.orphans', tenantLive, { executor: 'dg.replay_inventory' })).toMatchObject({
      outputs: { hasOrphans: false },
    });
    // A job admitted between the healthz readings counts as live, so two live jobs leave no row to call an orphan.
    expect(
      judge('replay.orphans', m({ openRuns: [otherLive, orphan] }, 2), { executor: 'dg.replay_inventory' }),
    ).toMatchObject({ outputs: { hasOrphans: false, activeReplayJobs: 2 } });
    // Without the SQL rows the live job cannot be attributed: no row is called an orphan.
    const unreachable = { error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true } };
    const blind = judge('replay.orphans', m(unreachable), { executor: 'dg.replay_inventory' });
    expect(blind).toMatchObject({ outputs: { hasOrphans: false } });
    expect(blind.evidence[0]?.detail).toContain('cannot be attributed');
  });
});

describe('SQL judges', () => {
  it('classifies failure rows: storage is transient (catch_up), a hash mismatch is semantic (rebuild)', () => {
    const rows = (codes: string[]) => ({
      rows: codes.map((c, i) => ({
        projection_name: i === 0 ? 'trace_summary' : 'context_graph',
        error_code: c,
        event_id: `ev-${i}`,
        log_seq: String(100 + i),
        count: '2',
      })),
      sql: 'SELECT …',
      latencyMs: 3,
    });
    expect(judge('failures.classify', rows([]), { executor: 'sql.projection_failures' })).toMatchObject({
      outputs: { kinds: 'none', suggested: 'catch_up', openFailures: 0 },
    });
    expect(judge('failures.classify', rows(['storage']), { executor: 'sql.projection_failures' })).toMatchObject({
      outputs: { kinds: 'transient', suggested: 'catch_up' },
    });
    expect(judge('failures.classify', rows(['conflict']), { executor: 'sql.projection_failures' })).toMatchObject({
      outputs: {
        kinds: 'semantic',
        suggested: 'rebuild',
        rebuildTarget: 'trace_summary',
        openFailures: 2,
        signature: ['trace_summary|conflict|ev-0'],
      },
    });
    expect(
      judge('failures.classify', rows(['conflict', 'event_sequence_invalid']), { executor: 'sql.projection_failures' }),
    ).toMatchObject({ outputs: { rebuildTarget: 'all' } });
  });

  it('reports projection cursors ahead of the tail with what they mean, and fails when SQL could not say', () => {
    const m = (rows: { projection_name: string; last_log_seq: string; tail: string }[]) => ({
      rows: rows.map((r) => ({ tenant_id: 'default', ...r })),
      sql: 'SELECT …',
      latencyMs: 2,
    });
    expect(judge('cursors.ahead', m([]), { executor: 'sql.cursor_ahead' })).toMatchObject({
      result: 'passed',
      outputs: { hasCursorAhead: false, cursorAhead: 0 },
      evidence: [{ ok: true }],
    });
    const ahead = judge(
      'cursors.ahead',
      m([{ projection_name: 'trace_summary', last_log_seq: '2178', tail: '2168' }]),
      {
        executor: 'sql.cursor_ahead',
      },
    );
    expect(ahead).toMatchObject({
      result: 'passed',
      outputs: { hasCursorAhead: true, cursorAhead: 1, projectionsAhead: ['trace_summary'] },
      evidence: [{ measured: ['trace_summary at 2178 > tail 2168'], ok: false }],
    });
    expect(ahead.evidence[0]?.detail).toContain('newer than the event log');
    const down = { code: 'DG_ERR_SQL_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true };
    expect(
      judge('cursors.ahead', { rows: [], sql: 'SELECT', latencyMs: 1, error: down }, { executor: 'sql.cursor_ahead' }),
    ).toMatchObject({ result: 'failed', transient: true, error: { code: 'DG_ERR_SQL_UNREACHABLE' } });
  });

  it('gathers integrity evidence, fails a restored log that still drifts, and reports cursors ahead', () => {
    const m = (counts: Record<string, number>) => ({
      checks: INTEGRITY_CHECKS.map((name) => ({
        name,
        rowCount: counts[name] ?? 0,
        sample: counts[name] ? [{ event_id: 'ev-9', log_seq: '77' }] : [],
        sql: `-- ${name}`,
        latencyMs: 1,
      })),
    });
    const found = judge('integrity.evidence', m({ payload_hash_drift: 2, trace_seq_step: 1 }), {
      executor: 'sql.integrity',
    });
    expect(found).toMatchObject({
      result: 'passed',
      outputs: { damage: 'found', hashDrift: 2, orderingViolations: 1 },
    });
    expect(found.evidence[0]).toMatchObject({
      label: 'payload hash drift',
      measured: 2,
      expected: 0,
      ok: false,
      source: { kind: 'sql', sql: '-- payload_hash_drift' },
    });
    expect(judge('integrity.clean', m({ payload_hash_drift: 1 }), { executor: 'sql.integrity' })).toMatchObject({
      result: 'failed',
      error: { code: 'event_log_damaged' },
    });
    expect(judge('integrity.clean', m({ cursor_ahead: 3 }), { executor: 'sql.integrity' })).toMatchObject({
      result: 'passed',
      outputs: { hasCursorAhead: true, cursorAhead: 3 },
    });
  });

  it('compares the restored event log with the one recorded before', () => {
    const m = { eventCount: 2000, maxLogSeq: 2100, tenantCount: 1, sql: 'SELECT', latencyMs: 1 };
    const v = judge('parity.compare', m, {
      executor: 'sql.parity',
      params: { referenceCount: 2100, referenceMaxLogSeq: 2168 },
    });
    expect(v).toMatchObject({ result: 'passed', outputs: { eventsNotRestored: 100 } });
    expect(judge('parity.compare', { ...m, eventCount: 0 }, { executor: 'sql.parity' })).toMatchObject({
      result: 'failed',
      error: { code: 'restore_empty' },
    });
  });

  it('fails every SQL probe that could not query Postgres, never reading it as a clean log', () => {
    const down = { code: 'DG_ERR_SQL_UNREACHABLE', message: 'connect ECONNREFUSED', transient: true };
    const refused = {
      code: 'DG_ERR_SQL_QUERY_FAILED',
      message: 'permission denied for dg_event_log',
      transient: false,
    };
    const cases: [JudgeName, Measurement, string][] = [
      ['integrity.evidence', { checks: [], error: down }, 'sql.integrity'],
      ['integrity.clean', { checks: [], error: down }, 'sql.integrity'],
      [
        'parity.record',
        { eventCount: 0, maxLogSeq: 0, tenantCount: 0, sql: 'SELECT', latencyMs: 1, error: down },
        'sql.parity',
      ],
      [
        'parity.compare',
        { eventCount: 0, maxLogSeq: 0, tenantCount: 0, sql: 'SELECT', latencyMs: 1, error: down },
        'sql.parity',
      ],
      ['failures.classify', { rows: [], sql: 'SELECT', latencyMs: 1, error: down }, 'sql.projection_failures'],
    ];
    for (const [name, m, executor] of cases) {
      const v = judge(name, m, { executor, params: { referenceCount: 10 } });
      expect(v, name).toMatchObject({ result: 'failed', transient: true, error: { code: 'DG_ERR_SQL_UNREACHABLE' } });
      expect(v.evidence[0], name).toMatchObject({ ok: false, detail: 'connect ECONNREFUSED' });
      expect(v.result === 'failed' && v.error.message, name).toContain('could not be measured');
    }
    // A refused query fails the same way next time: the run pauses instead of retrying.
    expect(judge('integrity.clean', { checks: [], error: refused }, { executor: 'sql.integrity' })).toMatchObject({
      result: 'failed',
      transient: false,
      error: { code: 'DG_ERR_SQL_QUERY_FAILED' },
    });
  });

  it('does not call a log clean when the integrity scan left checks out', () => {
    const partial = {
      checks: [{ name: 'payload_hash_drift' as const, rowCount: 0, sample: [], sql: '-- drift', latencyMs: 1 }],
    };
    for (const name of ['integrity.evidence', 'integrity.clean'] as const) {
      const v = judge(name, partial, { executor: 'sql.integrity' });
      expect(v).toMatchObject({ result: 'failed', transient: false, error: { code: 'integrity_incomplete' } });
      expect(v.result === 'failed' && v.error.message).toContain('events after TraceFinished');
    }
    expect(judge('integrity.evidence', { checks: [] }, { executor: 'sql.integrity' }).result).toBe('failed');
  });

  it('waits for SQL to connect', () => {
    expect(
      judge(
        'sql.reachable',
        {
          reachable: false,
          latencyMs: 1,
          error: { code: 'DG_ERR_SQL_UNREACHABLE', message: 'refused', transient: true },
        },
        { executor: 'sql.reach' },
      ).result,
    ).toBe('waiting');
    expect(judge('sql.symptoms', { reachable: true, latencyMs: 1 }, { executor: 'sql.reach' })).toMatchObject({
      outputs: { postgres: 'reachable' },
    });
  });
});

describe('host action judges', () => {
  const c = { executor: 'host.restart_runtime' };
  it('hands a manual action to a person', () => {
    expect(judge('host.completed', { mode: 'manual', instructions: 'Restart it' }, c)).toMatchObject({
      result: 'manual',
      instructions: 'Restart it',
    });
  });

  it('passes exit 0 and 2xx; a timeout or failure is not retried on its own; a refused webhook may be', () => {
    const cmd = {
      mode: 'command' as const,
      argv: ['systemctl', 'restart', 'dg'],
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 900,
      outputTail: '',
    };
    expect(judge('host.completed', cmd, c).result).toBe('passed');
    expect(judge('host.completed', { ...cmd, exitCode: 3 }, c)).toMatchObject({
      result: 'failed',
      transient: false,
      error: { code: 'DG_ERR_HOST_ACTION_FAILED' },
    });
    expect(judge('host.completed', { ...cmd, exitCode: null, timedOut: true }, c)).toMatchObject({
      result: 'failed',
      transient: false,
      error: { code: 'DG_ERR_HOST_ACTION_TIMEOUT' },
    });
    const http = {
      mode: 'http' as const,
      method: 'POST',
      url: 'http://127.0.0.1:4199/restart',
      status: 204,
      timedOut: false,
      durationMs: 10,
    };
    expect(judge('host.completed', http, c).result).toBe('passed');
    expect(judge('host.completed', { ...http, status: 500 }, c)).toMatchObject({ result: 'failed', transient: false });
    expect(judge('host.completed', { ...http, status: null, error: 'ECONNREFUSED' }, c)).toMatchObject({
      result: 'failed',
      transient: true,
      error: { code: 'DG_ERR_HOST_ACTION_UNREACHABLE' },
    });
  });

  it('tells a webhook never sent from one sent whose answer was lost: only the first may simply be sent again', () => {
    const http = {
      mode: 'http' as const,
      method: 'POST',
      url: 'http://127.0.0.1:4199/restore',
      status: null,
      timedOut: false,
      durationMs: 10,
    };
    const notSent = judge(
      'host.completed',
      { ...http, error: 'restore_backup: webhook could not be reached (ECONNREFUSED); nothing was sent' },
      c,
    );
    expect(notSent).toMatchObject({
      result: 'failed',
      transient: true,
      error: { code: 'DG_ERR_HOST_ACTION_UNREACHABLE' },
    });
    expect(notSent).not.toHaveProperty('outcomeUnknown');
    const cut = { code: 'DG_ERR_HOST_ACTION_NO_ANSWER', message: 'restore_backup: sent; no answer (UND_ERR_SOCKET)' };
    for (const lost of [
      { ...http, error: cut.message, failure: cut },
      { ...http, timedOut: true },
    ]) {
      const v = judge('host.completed', lost, c);
      expect(v).toMatchObject({ result: 'failed', transient: false, outcomeUnknown: true });
      expect(v.result === 'failed' && v.error.message).toContain('sent; no answer');
      expect(JSON.stringify(v)).not.toContain('could not be reached');
    }
  });

  it('lists the preferred backup first, then the others newest first', () => {
    const artifacts = [
      { id: 'a', path: '/b/a', created_at: '2026-03-05T00:00:00Z', size_bytes: 10, label: 'nightly' },
      { id: 'b', path: '/b/b', created_at: '2026-03-06T00:00:00Z', size_bytes: 2048, label: 'pre-upgrade' },
      { id: 'c', path: '/b/c', created_at: '2026-03-07T00:00:00Z', size_bytes: 5 * 1024 ** 3, label: 'nightly' },
    ];
    const m = {
      mode: 'command' as const,
      argv: ['ls'],
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 1,
      outputTail: '',
      artifacts,
    };
    const v = judge('backups.list', m, { executor: 'host.list_backups', expected: { preferLabel: 'pre-upgrade' } });
    expect(v).toMatchObject({ result: 'passed', outputs: { count: 3, preferred: 'b' } });
    expect(v.result === 'passed' && (v.outputs.artifacts as { id: string }[]).map((a) => a.id)).toEqual([
      'b',
      'c',
      'a',
    ]);
    expect(v.result === 'passed' && (v.outputs.artifacts as { display: string }[])[1]?.display).toBe(
      'nightly · 2026-03-07T00:00:00Z · 5.0 GiB',
    );
    expect(judge('backups.list', m, { executor: 'host.list_backups' })).toMatchObject({ outputs: { preferred: 'c' } });
  });
});

describe('backup listing', () => {
  const c = { executor: 'host.list_backups' };
  const cmd = {
    mode: 'command' as const,
    argv: ['list-backups'],
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 1,
    outputTail: '',
  };
  const artifact = (i: number, over: Partial<BackupArtifact> = {}): BackupArtifact => ({
    id: `bk-${i}`,
    path: `/b/bk-${i}.dump`,
    created_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
    size_bytes: 1024,
    label: 'nightly',
    ...over,
  });

  it('fails with the reason when the listing printed something that does not parse, though it exited 0', () => {
    const badOutput = {
      code: 'DG_ERR_HOST_ACTION_BAD_OUTPUT',
      message: 'list_backups: line 2 of the stdout is not valid JSON',
    };
    const command = judge('backups.list', { ...cmd, failure: badOutput }, c);
    expect(command).toMatchObject({ result: 'failed', transient: false, error: badOutput });
    expect(command.evidence[0]).toMatchObject({ ok: false, detail: badOutput.message });
    const webhook = {
      mode: 'http' as const,
      method: 'GET',
      url: 'http://127.0.0.1:4199/backups',
      status: 200,
      timedOut: false,
      durationMs: 3,
      error: badOutput.message,
    };
    expect(judge('backups.list', { ...webhook, failure: badOutput }, c)).toMatchObject({
      result: 'failed',
      error: badOutput,
    });
    // Only the message, as an older executor reports it: still a failure, not an empty list.
    expect(judge('backups.list', webhook, c)).toMatchObject({
      result: 'failed',
      error: { code: 'DG_ERR_HOST_ACTION_FAILED', message: badOutput.message },
    });
    // A successful action without a list is not an empty list either.
    expect(judge('backups.list', cmd, c)).toMatchObject({
      result: 'failed',
      error: { code: 'DG_ERR_HOST_ACTION_BAD_OUTPUT' },
    });
    // The same failure ends any host action, not just the listing.
    expect(judge('host.completed', { ...cmd, failure: badOutput }, { executor: 'host.stop_writes' }).result).toBe(
      'failed',
    );
  });

  it('says plainly that a listing found nothing, and what a person can do', () => {
    const v = judge('backups.list', { ...cmd, artifacts: [] }, c);
    expect(v).toMatchObject({ result: 'passed', outputs: { count: 0, artifacts: [] } });
    expect(v.result === 'passed' && 'preferred' in v.outputs).toBe(false);
    expect(v.evidence.at(-1)).toMatchObject({
      label: 'backup artifacts found',
      measured: 0,
      expected: '≥ 1',
      ok: false,
    });
    expect(v.evidence.at(-1)?.detail).toContain('type the id or path of one by hand, or abort');
  });

  it('keeps outside labels short and on one line, and leaves out artifacts it could not offer', () => {
    const long = `weekly\n${'x'.repeat(300)}`;
    const v = judge(
      'backups.list',
      { ...cmd, artifacts: [artifact(1, { label: long }), artifact(2, { id: 'y'.repeat(201) }), artifact(3)] },
      c,
    );
    const listed =
      v.result === 'passed' ? (v.outputs.artifacts as { id: string; label: string; display: string }[]) : [];
    expect(listed.map((a) => a.id)).toEqual(['bk-3', 'bk-1']);
    const display = listed[1]?.display ?? '';
    expect(display.startsWith('weekly xxx')).toBe(true);
    expect(display).not.toContain('\n');
    expect(display.split(' · ')[0]).toHaveLength(MAX_ARTIFACT_LABEL);
    expect(display.split(' · ')[0]?.endsWith('…')).toBe(true);
    expect(listed[1]?.label.length).toBeLessThanOrEqual(200);
    expect(v.evidence.at(-1)?.detail).toContain('1 entry left out: id or path empty or too long');
  });

  it('keeps the newest artifacts of a long listing, and the preferred one among them', () => {
    const many = Array.from({ length: 80 }, (_, i) => artifact(i, i === 3 ? { label: 'pre-upgrade' } : {}));
    const v = judge('backups.list', { ...cmd, artifacts: many }, { ...c, expected: { preferLabel: 'pre-upgrade' } });
    expect(v).toMatchObject({ result: 'passed', outputs: { count: 80, preferred: 'bk-3' } });
    const ids = v.result === 'passed' ? (v.outputs.artifacts as { id: string }[]).map((a) => a.id) : [];
    expect(ids).toHaveLength(50);
    expect(ids.slice(0, 2)).toEqual(['bk-3', 'bk-79']);
    expect(v.evidence.at(-1)?.detail).toContain('50 of them kept: the newest and the preferred one');
  });
});

describe('smoke and checklist gate', () => {
  const smoke = (failing: string[]) => ({
    checks: ['healthz', 'trace_read'].map((name) => ({
      name,
      ok: !failing.includes(name),
      detail: 'd',
      source: { kind: 'http' as const },
    })),
  });

  it('records failing smoke checks and fails them when they must pass', () => {
    expect(judge('smoke.record', smoke(['trace_read']), { executor: 'smoke.checks' })).toMatchObject({
      result: 'passed',
      outputs: { failing: ['trace_read'], allPassed: false },
    });
    expect(judge('smoke.pass', smoke(['trace_read']), { executor: 'smoke.checks' })).toMatchObject({
      result: 'failed',
      error: { code: 'smoke_failed', message: 'smoke checks failing: trace_read' },
    });
    expect(judge('smoke.pass', smoke([]), { executor: 'smoke.checks' }).result).toBe('passed');
  });

  const healthy = (): ChecklistMeasurement => ({
    healthz: healthz(),
    projectionHealth: ok(projectionHealth()),
    sql: { cursorAhead: [], openRuns: [] },
    trace: traceOk(),
  });
  const gate = (m: ChecklistMeasurement, over: Partial<JudgeContext> = {}) =>
    judge('gate.checklist', m, { executor: 'gate.checklist', ...over });

  it('passes a healthy node and records every checked value next to the expected one', () => {
    const v = gate(healthy());
    expect(v).toMatchObject({ result: 'passed', outputs: { healthy: true, failing: [], unchecked: [] } });
    const labels = v.evidence.map((e) => e.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        'checklist: GET /api/healthz',
        'checklist: healthz repo_started?',
        'checklist: pending_events',
        'checklist: open projection failures',
        'checklist: projection cursors ahead of the event tail',
        'checklist: known trace reads',
      ]),
    );
    expect(v.evidence.every((e) => e.ok !== false)).toBe(true);
  });

  it('fails an unreachable node and a node with open failures or a cursor ahead', () => {
    expect(
      gate({ ...healthy(), healthz: unreachable(), projectionHealth: unreachable('/api/v1/projections/health') }),
    ).toMatchObject({
      result: 'failed',
      error: { code: 'checklist_failed' },
    });
    const failures = gate({
      ...healthy(),
      projectionHealth: ok(projectionHealth({ failures: { precedent_index: 1 } })),
    });
    expect(conditions(failures)).toEqual(['open_failures']);
    const ahead = gate({
      ...healthy(),
      sql: {
        cursorAhead: [{ tenant_id: 'default', projection_name: 'trace_summary', last_log_seq: '2300', tail: '2168' }],
        openRuns: [],
      },
    });
    expect(conditions(ahead)).toEqual(['cursor_ahead']);
  });

  it('fails on a retry storm since the run started, lists other tenants left behind, and names what stays manual', () => {
    const since = '2026-03-07T11:40:00.000Z';
    const calm: RuntimeBehaviour = {
      since,
      repeatedFailures: [
        {
          projection: 'trace_summary',
          errorCode: 'storage',
          eventId: 'ev-1',
          rows: 1,
          maxRetryCount: 2,
          stillOpen: false,
        },
      ],
      failedRuns: [{ jobId: 'replay-9', projection: 'all', mode: 'rebuild', errorCode: 'conflict' }],
      tenants: [
        { tenantId: 'default', tail: 2168, lowestCursor: 2168, openFailures: 0 },
        { tenantId: 'acme', tail: 2170, lowestCursor: 2101, openFailures: 0 },
        { tenantId: 'globex', tail: 2169, lowestCursor: 2169, openFailures: 0 },
      ],
    };
    const withRuntime = (runtime: RuntimeBehaviour): ChecklistMeasurement => ({
      ...healthy(),
      sql: { cursorAhead: [], openRuns: [], runtime },
    });
    const passed = gate(withRuntime(calm));
    expect(passed).toMatchObject({
      result: 'passed',
      outputs: { otherTenants: ['acme'], manualChecks: expect.arrayContaining([expect.stringContaining('logs')]) },
    });
    const others = passed.evidence.find((e) => e.label.startsWith('checklist: other tenants'));
    expect(others).toMatchObject({ ok: false, measured: ['acme: cursor 2101, tail 2170, 0 open failures'] });

    // The same failure recorded again and again, and replays failing repeatedly: a storm, whatever health says.
    const storm = gate(
      withRuntime({
        ...calm,
        repeatedFailures: [{ ...(calm.repeatedFailures[0] as RuntimeBehaviour['repeatedFailures'][number]), rows: 7 }],
        failedRuns: [
          ...calm.failedRuns,
          { jobId: 'replay-10', projection: 'all', mode: 'catch_up', errorCode: 'storage' },
        ],
      }),
    );
    expect(conditions(storm)).toEqual(['retry_storm']);
    expect(storm.result === 'failed' && storm.error.message).toContain(
      'trace_summary storage on ev-1 recorded 7 times',
    );
    expect(storm.result === 'failed' && storm.error.message).toContain('2 replay runs failed');
  });

  it('re-checks the event log after a restore: damage fails the checklist, a scan that did not run measures nothing', () => {
    const scan = (counts: Partial<Record<(typeof INTEGRITY_CHECKS)[number], number>>) => ({
      checks: INTEGRITY_CHECKS.map((name) => ({
        name,
        rowCount: counts[name] ?? 0,
        sample: [],
        sql: `-- ${name}`,
        latencyMs: 5,
      })),
    });
    expect(gate({ ...healthy(), integrity: scan({}) })).toMatchObject({ result: 'passed' });
    const damaged = gate({ ...healthy(), integrity: scan({ payload_hash_drift: 2 }) });
    expect(conditions(damaged)).toEqual(['event_log_damaged']);
    expect(damaged.evidence.map((e) => e.label)).toContain('payload hash drift');
    const down = { code: 'DG_ERR_SQL_TIMEOUT', message: 'statement timeout', transient: true };
    expect(gate({ ...healthy(), integrity: { checks: [], error: down } })).toMatchObject({
      result: 'failed',
      transient: true,
      error: { code: 'DG_ERR_SQL_TIMEOUT' },
    });
  });

  it('waits while projections catch up (cursors moving) and fails once they stop', () => {
    const behind = (cursor: number): ChecklistMeasurement => ({
      ...healthy(),
      projectionHealth: ok(projectionHealth({ cursors: { trace_summary: cursor } })),
      trace: trace409(cursor),
    });
    const first = gate(behind(2150));
    expect(first).toMatchObject({ result: 'waiting', outputs: { catchingUp: true } });
    const progress = first.result === 'waiting' ? first.progress : undefined;
    expect(gate(behind(2160), { progress }).result).toBe('waiting');
    expect(gate(behind(2150), { progress })).toMatchObject({ result: 'failed', error: { code: 'checklist_failed' } });
  });

  it('holds neither its own replay nor orphans a person decided about against the node', () => {
    const runs = [openRun({ job_id: 'replay-17' }), openRun({ job_id: 'replay-99', status: 'queued' })];
    const m: ChecklistMeasurement = {
      ...healthy(),
      projectionHealth: ok(projectionHealth({ openRuns: runs })),
      sql: { cursorAhead: [], openRuns: runs },
    };
    const undecided = gate(m);
    expect(conditions(undecided)).toEqual(['open_runs', 'orphaned_runs']);
    const ctx = { acknowledgedRunIds: ['replay-17'], ownReplayJobIds: ['replay-99'] };
    const firstLook = gate(m, ctx);
    expect(firstLook).toMatchObject({ result: 'waiting', outputs: { waitingForOwnReplays: ['replay-99'] } });
    const progress = firstLook.result === 'waiting' ? firstLook.progress : undefined;
    const decided = gate(m, { ...ctx, progress });
    expect(decided).toMatchObject({ result: 'passed', outputs: { acknowledgedRuns: ['replay-17'] } });
  });

  it("waits for the run's own replays still running before judging, then judges", () => {
    const smokeReplay = openRun({ job_id: 'replay-42', projection_name: 'trace_summary' });
    const running: ChecklistMeasurement = {
      ...healthy(),
      healthz: healthz({ activeReplayJobs: 1 }),
      projectionHealth: ok(projectionHealth({ openRuns: [smokeReplay] })),
      sql: { cursorAhead: [], openRuns: [smokeReplay] },
    };
    const waiting = gate(running, { ownReplayJobIds: ['replay-42'] });
    expect(waiting).toMatchObject({ result: 'waiting', outputs: { waitingForOwnReplays: ['replay-42'] } });
    expect(waiting.evidence.find((e) => e.label === "checklist: this run's own replays")?.measured).toEqual([
      'replay-42 catch_up trace_summary running',
    ]);
    // Someone else's replay is not waited for: it fails the checklist as before.
    expect(conditions(gate(running))).toEqual(['open_runs']);
    expect(gate(healthy(), { ownReplayJobIds: ['replay-42'] }).result).toBe('passed');

    // No live job: its row may complete a moment after DecisionGraph forgot it, so it looks once more; still
    // running on that second look, it is an orphan.
    const idle: ChecklistMeasurement = { ...running, healthz: healthz({ activeReplayJobs: 0 }) };
    const once = gate(idle, { ownReplayJobIds: ['replay-42'] });
    expect(once).toMatchObject({ result: 'waiting', outputs: { waitingForOwnReplays: ['replay-42'] } });
    const progress = once.result === 'waiting' ? once.progress : undefined;
    expect(conditions(gate(idle, { ownReplayJobIds: ['replay-42'], progress }))).toEqual(['orphaned_runs']);
  });

  it('requires the known workflow to read when the run has one', () => {
    expect(gate(healthy(), { workflowExpected: true })).toMatchObject({ result: 'failed' });
    expect(
      gate(
        { ...healthy(), workflow: ok({ workflow: { workflow_id: 'w', status: 'requested' } }) },
        { workflowExpected: true },
      ).result,
    ).toBe('passed');
    expect(gate({ ...healthy(), trace: trace404() })).toMatchObject({ result: 'failed' });
  });

  it('fails (transiently) when its SQL checks could not run, rather than passing them unchecked', () => {
    const v = gate({
      ...healthy(),
      sql: { error: { code: 'DG_ERR_SQL_TIMEOUT', message: 'statement timeout', transient: true } },
    });
    expect(v).toMatchObject({ result: 'failed', transient: true, error: { code: 'DG_ERR_SQL_TIMEOUT' } });
    const { sql: _sql, ...noSql } = healthy();
    expect(gate(noSql)).toMatchObject({ result: 'passed', outputs: { unchecked: ['cursor_ahead'] } });
  });
});
