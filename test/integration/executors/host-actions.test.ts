import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostActionAbortedError } from '../../../src/executors/host-actions/index.js';
import { createExecutorContext, executeStep, executorFailureOf } from '../../../src/executors/registry/index.js';
import type {
  HostActionMeasurement,
  ListBackupsMeasurement,
  SqlParityMeasurement,
} from '../../../src/runbook/measurements.js';
import { freePort } from '../../helpers/own-postgres.js';
import {
  CONTROL_AUTH,
  configFor,
  type Harness,
  judge,
  pollUntilSettled,
  recoveryWith,
  silentLogger,
  startHarness,
  step,
} from './fixtures.js';

let h: Harness;
let deadPort = 0;

const BACKUPS = [
  { id: 'bk-1', path: '/backups/bk-1.dump', created_at: '2026-03-01T08:00:00Z', size_bytes: 1024, label: 'nightly' },
  {
    id: 'bk-2',
    path: '/backups/bk-2.dump',
    created_at: '2026-03-02T08:00:00Z',
    size_bytes: 2048,
    label: 'pre-upgrade',
  },
];
const PRINT_BACKUPS = `for (const b of ${JSON.stringify(BACKUPS)}) console.log(JSON.stringify(b))`;

beforeAll(async () => {
  deadPort = await freePort();
  h = await startHarness({}, (sim) => {
    const auth = { authorization: CONTROL_AUTH };
    const webhook = (method: string, path: string, body?: unknown) => ({
      type: 'http',
      method,
      url: `${sim.controlUrl}${path}`,
      headers: auth,
      ...(body !== undefined ? { body } : {}),
      timeout_s: 10,
    });
    return recoveryWith(
      {
        restart_runtime: webhook('POST', '/host/restart'),
        list_backups: { type: 'command', argv: [process.execPath, '-e', PRINT_BACKUPS], timeout_s: 10 },
        restore_backup: webhook('POST', '/host/restore-backup', { artifact: '{artifact}', run: '{run_id}' }),
        switch_release: { type: 'http', method: 'POST', url: `http://127.0.0.1:${deadPort}/switch`, timeout_s: 2 },
        stop_writes: {
          type: 'command',
          argv: [process.execPath, '-e', 'console.error("no writer switch"); process.exit(3)'],
          timeout_s: 10,
        },
        preserve_database: {
          type: 'command',
          argv: [process.execPath, '-e', 'setTimeout(() => {}, 20000)'],
          timeout_s: 30,
        },
        restore_postgres: { type: 'manual', instructions: 'Start Postgres for run {run_id}, then click Done' },
      },
      { SIM_CONTROL_TOKEN: sim.controlToken },
    );
  });
});

afterAll(async () => {
  await h?.close();
});

describe('host actions through the registry', () => {
  it('restart_runtime as a webhook to the host: done once, and the node comes back', async () => {
    const { measurement, verdict } = await step(h, 'host.restart_runtime');
    const m = measurement as HostActionMeasurement;
    expect(m).toMatchObject({ mode: 'http', method: 'POST', status: 200, timedOut: false });
    expect(verdict).toMatchObject({ result: 'passed', outputs: { action: 'restart_runtime', mode: 'http' } });
    expect(h.sim.hostActionCounts().restart).toBe(1);
    expect(JSON.stringify(measurement)).not.toContain(h.sim.controlToken);
    const up = await pollUntilSettled(h, 'dg.healthz', {});
    expect(up.verdict.result).toBe('passed');
  });

  it('a manual action gives the instructions with the run id filled in', async () => {
    const m = (await executeStep('host.restore_postgres', {}, h.ctx('run-42'))) as HostActionMeasurement;
    const instructions = 'Start Postgres for run run-42, then click Done';
    expect(m).toEqual({ mode: 'manual', instructions });
    expect(judge('host.restore_postgres', m)).toMatchObject({ result: 'manual', instructions });
  });

  it('list_backups reports the artifacts a command prints, and the judge prefers the label asked for', async () => {
    const { measurement, verdict } = await step(h, 'host.list_backups', { prefer: 'pre-upgrade' });
    const m = measurement as ListBackupsMeasurement;
    expect(m).toMatchObject({ mode: 'command', exitCode: 0 });
    expect(m.artifacts?.map((a) => a.id)).toEqual(['bk-1', 'bk-2']);
    expect(m.artifacts?.[1]).toEqual({
      id: 'bk-2',
      path: '/backups/bk-2.dump',
      created_at: '2026-03-02T08:00:00Z',
      size_bytes: 2048,
      label: 'pre-upgrade',
    });
    expect(verdict).toMatchObject({ result: 'passed', outputs: { count: 2, preferred: 'bk-2' } });
  });

  it('restore_backup: the artifact a person picked is restored, and parity shows what the backup lacks', async () => {
    const listing = await fetch(`${h.sim.controlUrl}/host/backups`, {
      headers: { authorization: `Bearer ${h.sim.controlToken}` },
    });
    const scheduled = (await listing.text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { id: string; label: string })
      .find((b) => b.label === 'scheduled');
    expect(scheduled).toBeDefined();

    // Three events reach the log after the backup was taken.
    await h.sim.inject('projections-behind');
    const before = (await executeStep('sql.parity', {}, h.ctx())) as SqlParityMeasurement;
    const restore = await step(h, 'host.restore_backup', { artifact: scheduled?.id ?? '' });
    expect(restore.verdict.result, JSON.stringify(restore.verdict)).toBe('passed');
    expect(h.sim.hostActionCounts().restore_backup).toBe(1);

    const after = await executeStep('sql.parity', {}, h.ctx());
    const compared = judge('sql.parity', after, {
      judge: 'parity.compare',
      params: { referenceCount: before.eventCount, referenceMaxLogSeq: before.maxLogSeq },
    });
    expect(compared).toMatchObject({ result: 'passed', outputs: { eventsNotRestored: 3 } });
  });

  it("the simulator's own backup listing parses into artifacts usable as an {artifact} value", async () => {
    const recovery = recoveryWith(
      {
        list_backups: {
          type: 'http',
          method: 'GET',
          url: `${h.sim.controlUrl}/host/backups`,
          headers: { authorization: CONTROL_AUTH },
          timeout_s: 10,
        },
      },
      { SIM_CONTROL_TOKEN: h.sim.controlToken },
    );
    const factory = createExecutorContext(configFor(h.sim), recovery, { logger: silentLogger });
    try {
      const m = (await executeStep(
        'host.list_backups',
        {},
        factory.forStep({ runId: 'run-raw' }),
      )) as ListBackupsMeasurement;
      expect(m).toMatchObject({ mode: 'http', status: 200 });
      expect(m.artifacts?.map((a) => a.label)).toContain('scheduled');
    } finally {
      await factory.close();
    }
  });

  it('a backup list that does not parse fails the listing with the reason, from a command or a webhook', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('bk-1 /backups/bk-1.dump 2026-03-01\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const print = (text: string) => [process.execPath, '-e', `process.stdout.write(${JSON.stringify(text)})`];
    const listings = {
      garbled: recoveryWith({ list_backups: { type: 'command', argv: print('Backups:\n  nightly\n'), timeout_s: 10 } }),
      webhook: recoveryWith({
        list_backups: { type: 'http', method: 'GET', url: `http://127.0.0.1:${port}/backups`, timeout_s: 10 },
      }),
      empty: recoveryWith({ list_backups: { type: 'command', argv: print(''), timeout_s: 10 } }),
    };
    const factories = Object.values(listings).map((r) =>
      createExecutorContext(configFor(h.sim), r, { logger: silentLogger }),
    );
    try {
      const [garbled, webhook, empty] = await Promise.all(
        factories.map(
          async (f) =>
            (await executeStep('host.list_backups', {}, f.forStep({ runId: 'run-list' }))) as ListBackupsMeasurement,
        ),
      );
      expect(garbled).toMatchObject({ mode: 'command', exitCode: 0 });
      expect(garbled?.artifacts).toBeUndefined();
      expect(judge('host.list_backups', garbled as ListBackupsMeasurement)).toMatchObject({
        result: 'failed',
        transient: false,
        error: { code: 'DG_ERR_HOST_ACTION_BAD_OUTPUT', message: expect.stringContaining('line 1 of the stdout') },
      });
      expect(webhook).toMatchObject({ mode: 'http', status: 200 });
      expect(judge('host.list_backups', webhook as ListBackupsMeasurement)).toMatchObject({
        result: 'failed',
        error: { code: 'DG_ERR_HOST_ACTION_BAD_OUTPUT', message: expect.stringContaining('response body') },
      });
      // A listing that ran and found nothing is not an error: the decision then asks for an artifact by hand.
      expect(judge('host.list_backups', empty as ListBackupsMeasurement)).toMatchObject({
        result: 'passed',
        outputs: { count: 0, artifacts: [] },
      });
    } finally {
      await Promise.all(factories.map((f) => f.close()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a parameter a person typed that could smuggle a second command is refused before anything runs', async () => {
    const counts = h.sim.hostActionCounts();
    const error = await executeStep('host.restore_backup', { artifact: 'x; rm -rf /' }, h.ctx()).catch(
      (e: unknown) => e,
    );
    expect(executorFailureOf(error)).toMatchObject({ code: 'DG_ERR_HOST_ACTION_PARAMETER_INVALID', transient: false });
    expect((error as Error).message).not.toContain('rm -rf');
    expect(h.sim.hostActionCounts()).toEqual(counts);
  });

  it('a webhook nobody listens on is a transient failure; a failing command is not', async () => {
    const webhook = await step(h, 'host.switch_release', { release: 'v1' });
    expect(webhook.measurement).toMatchObject({ mode: 'http', status: null, timedOut: false });
    expect(webhook.verdict).toMatchObject({
      result: 'failed',
      transient: true,
      error: { code: 'DG_ERR_HOST_ACTION_UNREACHABLE' },
    });

    const command = await step(h, 'host.stop_writes');
    expect(command.measurement).toMatchObject({ mode: 'command', exitCode: 3, timedOut: false });
    expect((command.measurement as Extract<HostActionMeasurement, { mode: 'command' }>).outputTail).toContain(
      'no writer switch',
    );
    expect(command.verdict).toMatchObject({
      result: 'failed',
      transient: false,
      error: { code: 'DG_ERR_HOST_ACTION_FAILED' },
    });
  });

  it('cancelling the step kills a running command and throws: its effect on the host is unknown', async () => {
    const controller = new AbortController();
    const running = executeStep('host.preserve_database', {}, h.ctx('run-abort', controller.signal));
    setTimeout(() => controller.abort(), 200);
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostActionAbortedError);
    expect(executorFailureOf(error)).toMatchObject({ code: 'DG_ERR_HOST_ACTION_ABORTED', transient: false });
  });
});
