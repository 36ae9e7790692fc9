import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorHandle } from '../../../sim/index.js';
import { createRecoveryRuntime } from '../../../src/jobs/index.js';
import { createJournal } from '../../../src/store/index.js';
import {
  driveRun,
  envFor,
  RunWatcher,
  recoveryFor,
  recoveryYaml,
  STARTER,
  startWorld,
  TIME_SCALE,
  testLogger,
  type World,
} from './fixtures.js';

const ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

/**
 * Stands between the bot and the simulator's control API. A restart request is passed on (the node really
 * restarts) but its answer is held back, so the worker can be killed in the middle of the host action.
 */
async function startHoldingProxy(sim: SimulatorHandle, onHeld: () => void): Promise<{ url: string; close(): void }> {
  const target = new URL(sim.controlUrl);
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (req.url === '/host/restart') {
              held.push(res);
              onHeld();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

let world: World;
let proxy: { url: string; close(): void };
let onRestartHeld: () => void = () => undefined;
const children: ChildProcess[] = [];

function spawnWorker(killAt?: string): ChildProcess {
  const settings = {
    env: envFor(world.sim, world.db?.url ?? '', world.config.redisUrl),
    recoveryYaml: recoveryYaml(world.sim, proxy.url),
    controlToken: world.sim.controlToken,
    prefix: world.prefix,
    timeScale: TIME_SCALE,
    ...(killAt ? { killAt } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...process.env, DGR_WORKER_SETTINGS: JSON.stringify(settings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
}

async function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return signal;
}

beforeAll(async () => {
  // This process only starts and steers the run; the worker processes do the steps.
  world = await startWorld({
    sim: { faults: ['node-down', 'projections-behind'] },
    workers: false,
    runtime: { role: 'service' },
  });
  proxy = await startHoldingProxy(world.sim, () => onRestartHeld());
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  proxy?.close();
  await world?.close();
});

describe('worker processes killed with SIGKILL', () => {
  it('at step boundaries and in the middle of a host action: the run finishes, each host action ran once', async () => {
    const { service } = world;
    const started = await service.start({ scenario: 'restart', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const watcher = await RunWatcher.watch(service, started.runId);
    const finished = driveRun(watcher, {}, 30_000);

    // Killed right after recording that a probe started, before it is called.
    expect(await exited(spawnWorker('step_started:check_healthz'))).toBe('SIGKILL');
    // Killed while the restart it asked for is under way on the host.
    const held = new Promise<void>((resolve) => {
      onRestartHeld = resolve;
    });
    const third = spawnWorker();
    await held;
    third.kill('SIGKILL');
    expect(await exited(third)).toBe('SIGKILL');
    // Killed after recording an unsatisfied check, before its delayed re-check was queued.
    expect(await exited(spawnWorker('step_waiting:check_projections'))).toBe('SIGKILL');

    const last = spawnWorker();
    const end = await finished;
    last.kill('SIGTERM');
    expect(await exited(last)).toBe(null);

    expect(end.outcome?.outcome).toBe('recovered');
    expect(world.sim.hostActionCounts().restart).toBe(1);
    // The interrupted restart was re-probed, found done, and not repeated.
    const recheck = watcher.ofType('step_rechecked').find((e) => e.stepId === 'restart_runtime');
    expect(recheck?.alreadyDone).toBe(true);
    expect(end.steps.restart_runtime).toMatchObject({ status: 'passed', alreadyDone: true });
    // No step ran to completion twice.
    const passed = watcher.ofType('step_passed').map((e) => e.stepId);
    expect(new Set(passed).size).toBe(passed.length);

    // The journal holds every event, contiguous, exactly as the live log.
    await world.runtime.reconcile();
    const journal = createJournal({ connectionString: world.db?.url ?? '' });
    try {
      const loaded = await journal.loadRun(started.runId);
      const live = (await service.get(started.runId))?.events ?? [];
      expect(loaded?.events.map((e) => e.seq)).toEqual(live.map((_, i) => i + 1));
      expect(loaded?.events).toEqual(live);
      expect(loaded?.run.status).toBe('finished');
    } finally {
      await journal.close();
    }
    await watcher.close();
  }, 60_000);

  it('a worker shut down mid-step cuts the call off at its deadline; the step runs again elsewhere, once', async () => {
    await world.sim.inject('slow');
    const workers = () =>
      createRecoveryRuntime(world.config, recoveryFor(world.sim), {
        logger: testLogger(),
        role: 'workers',
        prefix: world.prefix,
        timeScale: TIME_SCALE,
        reconcileIntervalMs: 0,
        worker: { closeTimeoutMs: 200, lockDurationMs: 1000, stalledIntervalMs: 500 },
        journalWriter: { sweepIntervalMs: 0 },
      });
    const first = await workers();
    await first.startWorkers();
    const started = await world.service.start({ scenario: 'projections', actor: STARTER });
    if (!started.ok) throw new Error(started.message);
    const watcher = await RunWatcher.watch(world.service, started.runId);
    await watcher.until((s) => s.steps.inspect_health?.status === 'running');
    const t0 = Date.now();
    await first.close();
    // The 1.5 s call was cut off after the 200 ms close deadline, not waited for.
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(watcher.state?.steps.inspect_health?.status).toBe('running');

    await world.sim.clear('slow');
    const second = await workers();
    try {
      await second.startWorkers();
      await watcher.until((s) => s.steps.inspect_health?.status !== 'running');
      const starts = watcher.ofType('step_started').filter((e) => e.stepId === 'inspect_health');
      expect(starts.map((e) => e.attempt)).toEqual([1]);
      expect(watcher.ofType('step_failed')).toEqual([]);
    } finally {
      await world.service.abort(started.runId, { actor: STARTER, reason: 'drill over' });
      await second.close();
      await watcher.close();
    }
  });
});
