import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { EXECUTORS, ExecutorUnknownError, executeStep, measureStep } from '../../../src/executors/registry/index.js';
import type { JsonObject } from '../../../src/runbook/json.js';
import { EXECUTOR_NAMES, type JobExecutorName } from '../../../src/runbook/measurements.js';
import { type Harness, pollUntilSettled, startHarness, step } from './fixtures.js';

// Every executor of the engine's catalogue, run against a healthy simulator with the default recovery config
// (every host action manual), its measurement stored as JSON and read back by the step's default judge.

let h: Harness;
let jobId = '';

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

const JOB_EXECUTORS = EXECUTOR_NAMES.filter((n): n is JobExecutorName => n !== 'manual');

describe('the executor registry', () => {
  it('has exactly one executor per name of the engine catalogue, and none for manual', async () => {
    expect(Object.keys(EXECUTORS).sort()).toEqual([...JOB_EXECUTORS].sort());
    const error = await executeStep('manual', {}, h.ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutorUnknownError);
    expect((error as ExecutorUnknownError).code).toBe(ErrorCode.ExecutorUnknown);
  });

  it('refuses a name it does not know, by code, without touching anything', async () => {
    const before = h.sim.hostActionCounts();
    const error = await executeStep('dg.reboot_everything', {}, h.ctx()).catch((e: unknown) => e);
    expect((error as ExecutorUnknownError).code).toBe('DG_ERR_EXECUTOR_UNKNOWN');
    expect(await measureStep('host.reboot_everything', {}, h.ctx())).toMatchObject({
      kind: 'error',
      error: { code: 'DG_ERR_EXECUTOR_UNKNOWN', transient: false },
      source: { kind: 'host', path: 'reboot_everything' },
    });
    expect(h.sim.hostActionCounts()).toEqual(before);
  });

  it('refuses missing or mistyped parameters by name, never echoing the value', async () => {
    const poll = await executeStep('dg.replay_poll', {}, h.ctx()).catch((e: unknown) => e);
    expect(poll).toMatchObject({ code: 'DG_ERR_EXECUTOR_PARAMS_INVALID', parameter: 'jobId' });
    const start = await executeStep('dg.replay_start', { projection: 'everything', reason: 'x' }, h.ctx()).catch(
      (e: unknown) => e,
    );
    expect(start).toMatchObject({ code: 'DG_ERR_EXECUTOR_PARAMS_INVALID', parameter: 'projection' });
    expect((start as Error).message).not.toContain('everything');
    const host = await executeStep('host.restore_backup', { artifact: 42 }, h.ctx()).catch((e: unknown) => e);
    expect(host).toMatchObject({ code: 'DG_ERR_EXECUTOR_PARAMS_INVALID', parameter: 'artifact' });
  });
});

describe('each executor on a healthy DecisionGraph', () => {
  const passes: Array<[JobExecutorName, JsonObject, (outputs: JsonObject) => void]> = [
    ['dg.healthz', {}, (o) => expect(o).toMatchObject({ healthz: 'up', dbAvailable: true })],
    ['dg.projection_health', {}, (o) => expect(o).toMatchObject({ state: 'current', pendingTotal: 0 })],
    ['dg.trace_read', {}, (o) => expect(o).toMatchObject({ trace: 'readable' })],
    ['dg.graph_read', {}, (o) => expect(o.nodes).toBeGreaterThan(0)],
    ['dg.workflow_inbox', {}, (o) => expect(o).toMatchObject({ inbox: 'readable' })],
    ['dg.workflow_read', {}, (o) => expect(o).toMatchObject({ workflow: 'readable' })],
    ['dg.replay_inventory', {}, (o) => expect(o).toMatchObject({ hasOrphans: false, orphanCount: 0 })],
    ['sql.reach', {}, (o) => expect(o).toEqual({ postgres: 'reachable' })],
    ['sql.integrity', {}, (o) => expect(o).toMatchObject({ damage: 'none', hasCursorAhead: false })],
    ['sql.parity', {}, (o) => expect(o.eventCount).toBeGreaterThan(0)],
    ['sql.projection_failures', {}, (o) => expect(o).toMatchObject({ openFailures: 0, kinds: 'none' })],
    ['sql.cursor_ahead', {}, (o) => expect(o).toMatchObject({ hasCursorAhead: false, cursorAhead: 0 })],
    [
      'smoke.checks',
      {},
      (o) =>
        expect(o).toEqual({
          allPassed: true,
          failing: [],
          passing: [
            'healthz',
            'projection_health',
            'projections_current',
            'replay_admission',
            'repo_started',
            'trace_read',
            'workflow_read',
          ],
          startedReplayJobIds: [expect.stringMatching(/^replay-\d+$/)],
        }),
    ],
  ];

  it.each(passes)('%s measures and its default judge passes', async (executor, params, check) => {
    const { measurement, verdict } = await step(h, executor, params);
    expect(JSON.parse(JSON.stringify(measurement))).toEqual(measurement);
    expect(verdict.result, JSON.stringify(verdict)).toBe('passed');
    if (verdict.result === 'passed') check(verdict.outputs);
  });

  it('smoke checks without replay admission make no write', async () => {
    const { measurement } = await step(h, 'smoke.checks', { replayAdmission: false });
    expect(JSON.stringify(measurement)).not.toContain('replay_admission');
    expect(await executeStep('smoke.checks', { replayAdmission: false }, h.ctx())).toMatchObject({
      checks: expect.arrayContaining([expect.objectContaining({ name: 'trace_read', ok: true })]),
    });
  });

  it('keeps identities and states of reads, not DecisionGraph payloads', async () => {
    const { measurement } = await step(h, 'dg.trace_read');
    const text = JSON.stringify(measurement);
    expect(text).toContain(h.sim.known.traceId);
    expect(text).not.toContain('"payload"');
    expect(text).not.toContain('"attrs"');
  });

  const manualHosts: Array<[JobExecutorName, JsonObject, string]> = [
    ['host.restart_runtime', {}, 'Restart the DecisionGraph runtime'],
    ['host.stop_runtime', {}, 'Stop the DecisionGraph runtime'],
    ['host.start_runtime', {}, 'Start the DecisionGraph runtime'],
    ['host.restore_postgres', {}, "Bring DecisionGraph's Postgres back"],
    ['host.stop_writes', {}, 'Stop every writer'],
    ['host.preserve_database', {}, 'Preserve the broken database'],
    ['host.list_backups', { prefer: 'pre-upgrade' }, 'Find the Postgres backups'],
    ['host.restore_backup', { artifact: 'bk-7' }, 'Restore backup bk-7'],
    ['host.switch_release', { release: 'v1.4.2' }, 'Switch DecisionGraph to release v1.4.2'],
  ];

  it.each(manualHosts)('%s configured manual asks a person, with instructions', async (executor, params, text) => {
    const before = h.sim.hostActionCounts();
    const { measurement, verdict } = await step(h, executor, params);
    expect(measurement).toMatchObject({ mode: 'manual' });
    expect(verdict.result).toBe('manual');
    if (verdict.result === 'manual') expect(verdict.instructions).toContain(text);
    expect(h.sim.hostActionCounts()).toEqual(before);
  });

  it('dg.replay_start admits a catch_up and dg.replay_poll follows it to completed with nothing pending', async () => {
    const start = await step(h, 'dg.replay_start', { mode: 'catch_up', projection: 'all', reason: 'executor test' });
    expect(start.measurement).toMatchObject({ request: { mode: 'catch_up', projection: 'all' } });
    expect(start.verdict.result).toBe('passed');
    if (start.verdict.result !== 'passed') return;
    jobId = start.verdict.outputs.jobId as string;
    expect(jobId).toMatch(/^replay-/);

    const poll = await pollUntilSettled(h, 'dg.replay_poll', { jobId });
    expect(poll.verdict.result, JSON.stringify(poll.verdict)).toBe('passed');
    expect(poll.measurement).toMatchObject({
      run: { ok: true, data: { run: { job_id: jobId, status: 'completed' } } },
    });
    expect(poll.measurement).toHaveProperty('health.ok', true);
  });

  it('gate.checklist measures everything the checklist needs and passes', async () => {
    const { measurement, verdict } = await step(
      h,
      'gate.checklist',
      { traceId: h.sim.known.traceId, workflowId: h.sim.known.workflowId ?? '' },
      { ctx: { workflowExpected: true, ownReplayJobIds: jobId ? [jobId] : [] } },
    );
    expect(measurement).toMatchObject({
      healthz: { ok: true },
      projectionHealth: { ok: true },
      sql: { cursorAhead: [], openRuns: [] },
      trace: { ok: true },
      workflow: { ok: true },
    });
    expect(verdict.result, JSON.stringify(verdict)).toBe('passed');
    // A run without a workflow of its own reads none: workflow reads write.
    expect(await executeStep('gate.checklist', {}, h.ctx())).not.toHaveProperty('workflow');
  });
});
