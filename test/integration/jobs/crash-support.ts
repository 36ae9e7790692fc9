// Worker processes that can be killed mid-step, and a proxy in front of the simulator's control API that holds a
// host action's answer back so the kill lands after the action ran on the host and before the bot heard of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { SimulatorHandle, SimulatorOptions } from '../../../sim/index.js';
import { envFor, recoveryYaml, startWorld, TIME_SCALE, type World } from './fixtures.js';
import type { EntrySettings } from './worker-entry.js';

const ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

/**
 * How long a crash test's run may go without a new event (`driveRun`'s budget). Each kill costs a lock expiry and
 * a stalled-job check before another worker takes the step over (about 1.5 s at the crash workers' settings),
 * several times that on a busy machine. Crash tests get 60 s in all rather than the default 20 s.
 */
export const CRASH_SETTLE_MS = 30_000;

/** One request the proxy passed on, and what came back. */
export interface ProxiedCall {
  /** The control API path, e.g. `/host/stop-writes`. */
  readonly path: string;
  /** The worker that sent it, from the `/w<n>` prefix of its configured URL; 0 without one. */
  readonly worker: number;
  readonly idempotencyKey: string | undefined;
  /** The answer's status; `null` while held or when it was never given. */
  status: number | null;
  /** The simulator answered from its idempotency store: nothing ran. */
  replayed: boolean;
  /** The answer was held back (the sender is then killed). */
  readonly held: boolean;
}

export interface HoldingProxy {
  readonly url: string;
  /** Every request, in arrival order. */
  readonly calls: ProxiedCall[];
  /** The next request to each path is passed on but its answer never given; `onHeld` is called instead. */
  holdOnce(...paths: string[]): void;
  /** The next `times` requests to `path` get `status` from the proxy itself, as a webhook that refused. */
  failNext(path: string, status: number, times?: number): void;
  /** The calls to one path. */
  callsTo(path: string): ProxiedCall[];
  close(): void;
}

/**
 * Stands between the workers and the simulator's control API. Each worker is configured with its own URL prefix
 * `/w<n>`, so the proxy knows which process to kill when it holds an answer.
 */
export async function startHoldingProxy(
  sim: Pick<SimulatorHandle, 'controlUrl'>,
  onHeld: (call: ProxiedCall) => void,
): Promise<HoldingProxy> {
  const held: http.ServerResponse[] = [];
  const holds = new Set<string>();
  const failures = new Map<string, { status: number; times: number }>();
  const calls: ProxiedCall[] = [];
  const server = http.createServer((req, res) => {
    const match = /^\/w(\d+)(\/.*)$/.exec(req.url ?? '/');
    const worker = match ? Number(match[1]) : 0;
    const path = match ? (match[2] as string) : (req.url ?? '/');
    const key = req.headers['idempotency-key'];
    const failure = failures.get(path);
    const fail = failure !== undefined && failure.times > 0;
    if (failure !== undefined && fail) failure.times -= 1;
    const hold = !fail && holds.delete(path);
    const call: ProxiedCall = {
      path,
      worker,
      idempotencyKey: typeof key === 'string' ? key : undefined,
      status: null,
      replayed: false,
      held: hold,
    };
    calls.push(call);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failure !== undefined && fail) {
        call.status = failure.status;
        res.writeHead(failure.status, { 'content-type': 'application/json' });
        res.end('{"ok":false,"error":"refused by the proxy"}');
        return;
      }
      // Read per request: a proxy may be started before the simulator it forwards to.
      const target = new URL(sim.controlUrl);
      const upstream = http.request(
        { host: target.hostname, port: target.port, path, method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            call.replayed = answer.headers['idempotent-replayed'] === 'true';
            if (hold) {
              held.push(res);
              onHeld(call);
              return;
            }
            call.status = answer.statusCode ?? 502;
            res.writeHead(call.status, answer.headers);
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
    calls,
    holdOnce(...paths) {
      for (const p of paths) holds.add(p);
    },
    failNext(path, status, times = 1) {
      failures.set(path, { status, times });
    },
    callsTo(path) {
      return calls.filter((c) => c.path === path);
    },
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface WorkerProcess {
  readonly n: number;
  readonly child: ChildProcess;
  /** Resolves once the worker has started its step workers (never, for one that kills itself first). */
  readonly ready: Promise<void>;
}

/** A worker process started ahead of need: it loads its modules and waits for its settings. */
interface Spare {
  readonly child: ChildProcess;
  /** Resolves once its modules are loaded and it listens for its settings. */
  readonly warm: Promise<void>;
  readonly ready: Promise<void>;
}

function startSpare(): Spare {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const said = (what: string) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (message !== what) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => reject(new Error(`worker exited (${signal ?? code}) before "${what}"`)));
    });
  const warm = said('warm');
  const ready = said('ready');
  // A spare killed before it is used, or a worker that kills itself at its step, never says either.
  warm.catch(() => undefined);
  ready.catch(() => undefined);
  return { child, warm, ready };
}

/**
 * Worker processes of one test file: numbered, each pointed at the proxy under its own prefix. Processes are
 * started ahead of need (`warmUp`), so a worker replacing a killed one starts its step workers at once instead of
 * loading modules while the run waits for it: 1.3 s of CPU, and 10 s or more on a busy machine.
 */
export class WorkerFleet {
  private next = 1;
  private readonly all: WorkerProcess[] = [];
  private readonly spares: Spare[] = [];

  constructor(
    private readonly world: () => World,
    private readonly proxyUrl: () => string,
  ) {}

  /**
   * Has `count` spares load their modules, as many as the test will start workers; resolves once they have.
   * Loading them together costs what loading them one by one later would, but keeps it off the path of a run
   * waiting for a worker. A worker started beyond them loads when it is started.
   */
  async warmUp(count: number): Promise<void> {
    while (this.spares.length < count) this.spares.push(startSpare());
    await Promise.all(this.spares.map((s) => s.warm));
  }

  /**
   * With `killAt` (`<event type>:<step id>`) the worker kills itself right after appending that event;
   * `productionLocks` runs it with the step worker's default lock and stalled-check settings.
   */
  spawn(killAt?: string, options: { productionLocks?: boolean } = {}): WorkerProcess {
    const n = this.next++;
    const world = this.world();
    const settings: EntrySettings = {
      env: envFor(world.sim, world.db?.url ?? '', world.config.redisUrl),
      recoveryYaml: recoveryYaml(world.sim, `${this.proxyUrl()}/w${n}`),
      controlToken: world.sim.controlToken,
      prefix: world.prefix,
      timeScale: TIME_SCALE,
      ...(killAt ? { killAt } : {}),
      ...(options.productionLocks ? { productionLocks: true } : {}),
    };
    const spare = this.spares.shift() ?? startSpare();
    // A callback keeps a send to a process killed meanwhile from becoming an unhandled 'error' event.
    spare.warm.then(
      () => spare.child.send(settings, () => undefined),
      () => undefined,
    );
    const worker = { n, child: spare.child, ready: spare.ready };
    this.all.push(worker);
    return worker;
  }

  get(n: number): WorkerProcess | undefined {
    return this.all.find((w) => w.n === n);
  }

  /** Kills what is still running, the spares included; for afterAll. */
  killAll(): void {
    const children = [...this.all.map((w) => w.child), ...this.spares.splice(0).map((s) => s.child)];
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export async function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return signal;
}

/**
 * A world whose steps run only in worker processes, `workers` of them at all times. When the proxy holds a host
 * action's answer (the action has run on the host), the worker that asked is killed with SIGKILL and a fresh one
 * started; a survivor takes the job over once its lock runs out.
 */
export interface CrashRig {
  readonly world: World;
  readonly proxy: HoldingProxy;
  readonly fleet: WorkerFleet;
  /** How each killed worker ended, in kill order. */
  readonly kills: Promise<NodeJS.Signals | null>[];
  /** Host actions the simulator counted since `before` (a `hostActionCounts()` reading). */
  hostActionsSince(before: Record<string, number>): Record<string, number>;
  /** Per request to `path`: the attempt its key names (`a1`…), whether it was held, whether answered from memory. */
  callsTo(path: string): [string | undefined, boolean, boolean][];
  close(): Promise<void>;
}

export interface CrashRigOptions {
  readonly sim?: SimulatorOptions;
  /** Workers running at all times. @defaultValue 2 */
  readonly workers?: number;
  /** Replacements loaded before the run: as many as the test kills workers. @defaultValue 0 */
  readonly spares?: number;
}

export async function startCrashRig(options: CrashRigOptions = {}): Promise<CrashRig> {
  let world: World | undefined;
  let proxy: HoldingProxy | undefined;
  const fleet = new WorkerFleet(
    () => world as World,
    () => (proxy as HoldingProxy).url,
  );
  const workers = options.workers ?? 2;
  // The workers and their replacements load their modules while the simulator and the journal start.
  const warm = fleet.warmUp(workers + (options.spares ?? 0));
  try {
    world = await startWorld({
      ...(options.sim ? { sim: options.sim } : {}),
      workers: false,
      runtime: { role: 'service' },
    });
    await warm;
  } catch (err) {
    fleet.killAll();
    throw err;
  }
  const kills: Promise<NodeJS.Signals | null>[] = [];
  try {
    proxy = await startHoldingProxy(world.sim, (call) => {
      const sender = fleet.get(call.worker)?.child;
      if (sender === undefined) throw new Error(`no worker ${call.worker} sent ${call.path}`);
      sender.kill('SIGKILL');
      kills.push(exited(sender));
      fleet.spawn();
    });
    const started = Array.from({ length: workers }, () => fleet.spawn());
    await Promise.all(started.map((w) => w.ready));
  } catch (err) {
    fleet.killAll();
    proxy?.close();
    await world.close();
    throw err;
  }
  const held = proxy;
  return {
    world,
    proxy: held,
    fleet,
    kills,
    hostActionsSince(before) {
      return Object.fromEntries(
        Object.entries(world.sim.hostActionCounts())
          .map(([k, v]) => [k, v - (before[k] ?? 0)] as const)
          .filter(([, v]) => v !== 0),
      );
    },
    callsTo(path) {
      return held.callsTo(path).map((c) => [c.idempotencyKey?.replace(/^.*-(a\d+)$/, '$1'), c.held, c.replayed]);
    },
    async close() {
      fleet.killAll();
      held.close();
      await world.close();
    },
  };
}
