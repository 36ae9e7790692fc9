import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { colourWanted, createStyle } from '../projections/terminal/style.js';
import { type DemoOptions, demoUsage, parseDemoArgs } from './demo-args.js';
import type { DemoBackend, DemoDecisionGraph } from './demo-backend.js';
import {
  CONTROL_TOKEN_VARIABLE,
  type DemoProbeRole,
  databaseUrlOf,
  demoEnvironment,
  demoRecoveryConfigYaml,
  probeRoleGrants,
} from './demo-setup.js';
import { type ProcessIo, runAsProcess } from './entry.js';
import { EXIT_FAILED, EXIT_USAGE, runCli } from './main.js';
import type { Responder } from './responder.js';

/** Who approves in the demo's `--auto` runs: a second operator, distinct from the one who starts the run. */
export const DEMO_APPROVER = 'demo-approver';

/**
 * `--auto`, plus the demo's hands for the runbook steps only a person can do (done on the backend instead) and a
 * second operator's approvals. Only the demo approves by itself: its host actions act on its own simulator.
 */
function withBackendHands(dg: DemoDecisionGraph): (auto: Responder) => Responder {
  return (auto) => ({
    ...auto,
    async approve(_pending, _state, refusal) {
      if (refusal !== undefined) return { stop: 'abort', reason: `demo: the approval was refused: ${refusal}` };
      return { approver: DEMO_APPROVER };
    },
    async manual(pending, state, refusal) {
      const hands = dg.manualSteps[pending.stepId];
      if (hands === undefined || refusal !== undefined) return auto.manual(pending, state, refusal);
      const answer = await fetch(hands.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${dg.controlToken}` },
      });
      await answer.body?.cancel();
      if (!answer.ok) {
        return { stop: 'abort', reason: `demo: ${new URL(hands.url).pathname} answered ${answer.status}` };
      }
      return { done: true, note: hands.note };
    },
  });
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
  // A lost connection fails the query below; the client's own 'error' event would only crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Removes every key under the demo's prefix (run logs and BullMQ queues alike). */
async function removeRedisPrefix(redisUrl: string, base: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // Failures surface through the commands below; an unhandled 'error' event would only add a stack trace.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export type DemoIo = ProcessIo;

/**
 * Runs the demo end to end against `backend` and returns the exit status: 0 only when the run ends recovered.
 */
export async function runDemo(backend: DemoBackend, options: DemoOptions, io: DemoIo): Promise<number> {
  const style = createStyle(colourWanted(io.stdout.isTTY === true, io.env));
  const say = (line: string) => io.stdout.write(`${line}\n`);
  const incident = backend.incidents[options.scenario];
  const id = randomBytes(5).toString('hex');
  const journalDb = `dgrdemo_${id}`;
  const simDb = `dgrdemo_sim_${id}`;
  const probeRole: DemoProbeRole = { name: `dgrdemo_ro_${id}`, password: randomBytes(18).toString('base64url') };
  const prefixBase = `dgrdemo-${id}`;
  const cleanups: Array<() => Promise<void>> = [];
  try {
    say(style.bold(`dg-recovery demo: ${options.scenario}`));
    say(`Simulated incident: ${incident.story}.`);
    for (const v of options.variants) say(`Variant ${v}: ${backend.variants.find((b) => b.name === v)?.story}.`);
    // The bot's probes read DecisionGraph's database with a SELECT-only role, as in a deployment (it refuses
    // any other): a role of the demo's own, granted before the simulator creates its tables. Cleanups run in
    // reverse, so the role goes last, once nothing refers to it.
    await adminQuery(options.postgresUrl, `CREATE ROLE ${probeRole.name} LOGIN PASSWORD '${probeRole.password}'`);
    cleanups.push(() => adminQuery(options.postgresUrl, `DROP ROLE IF EXISTS ${probeRole.name}`));
    await adminQuery(options.postgresUrl, `CREATE DATABASE ${simDb}`);
    cleanups.push(() => adminQuery(options.postgresUrl, `DROP DATABASE IF EXISTS ${simDb} WITH (FORCE)`));
    await adminQuery(databaseUrlOf(options.postgresUrl, simDb), probeRoleGrants(probeRole, simDb));

    say(style.dim(`Starting the DecisionGraph simulator with ${incident.faults.join(' + ')} injected…`));
    const dg = await backend.start({
      scenario: options.scenario,
      variants: options.variants,
      timeScale: options.timeScale,
      databaseUrl: databaseUrlOf(options.postgresUrl, simDb),
      adminDatabaseUrl: options.postgresUrl,
      controlTokenVariable: CONTROL_TOKEN_VARIABLE,
    });
    cleanups.push(() => dg.close());
    say(style.dim(`Simulator API ${dg.baseUrl}, control API ${dg.controlUrl}; known trace ${dg.knownTraceId}`));
    say(style.dim(`The probes read the simulator's database as ${probeRole.name}, a SELECT-only role.`));

    await adminQuery(options.postgresUrl, `CREATE DATABASE ${journalDb}`);
    cleanups.push(() => adminQuery(options.postgresUrl, `DROP DATABASE IF EXISTS ${journalDb} WITH (FORCE)`));
    cleanups.push(() => removeRedisPrefix(options.redisUrl, prefixBase));

    const dir = await mkdtemp(join(tmpdir(), 'dg-recovery-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const recoveryConfig = join(dir, 'recovery.yaml');
    const env = demoEnvironment(
      dg,
      {
        recoveryConfig,
        journalDatabaseUrl: databaseUrlOf(options.postgresUrl, journalDb),
        redisUrl: options.redisUrl,
        probeDatabaseUrl: databaseUrlOf(options.postgresUrl, simDb, probeRole),
      },
      io.env,
    );
    await writeFile(recoveryConfig, demoRecoveryConfigYaml(dg.hostActions, env), { mode: 0o600 });
    say(
      style.dim(
        `Every host action is an http call to the simulator's control API; timings run at ${options.timeScale}× ` +
          `(--time-scale 1 for real ones).` +
          (options.auto ? ` Answering automatically (--auto); ${DEMO_APPROVER} approves as the second operator.` : ''),
      ),
    );
    // The summary gets a folder of its own that outlives the demo (the temporary one above is removed).
    const summaryDir = options.summaryDir ?? join(tmpdir(), 'dg-recovery-demo');
    await mkdir(summaryDir, { recursive: true });
    say('');
    const exitCode = await runCli(
      [
        'recover',
        options.scenario,
        '--as',
        'demo-operator',
        ...(options.auto ? ['--auto'] : []),
        '--summary-dir',
        summaryDir,
      ],
      { stdin: io.stdin, stdout: io.stdout, stderr: io.stderr, env, ...(io.signal ? { signal: io.signal } : {}) },
      {
        runtime: { prefix: `${prefixBase}:`, timeScale: options.timeScale },
        wrapAuto: withBackendHands(dg),
        printSummary: false,
      },
    );
    const counts = Object.entries(dg.hostActionCounts()).filter(([, n]) => n > 0);
    say('');
    say(
      style.dim(
        `Host actions the simulator performed: ${counts.length > 0 ? counts.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}`,
      ),
    );
    say(
      exitCode === 0
        ? style.green('Demo finished: the run recovered.')
        : style.red('Demo finished: the run did not recover.'),
    );
    return exitCode;
  } catch (err) {
    io.stderr.write(`demo: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => io.stderr.write(`demo: cleanup: ${(err as Error).message}\n`));
    }
  }
}

/** The `npm run demo` process, against the backend `demo/main.ts` hands over. */
export async function demoMain(backend: DemoBackend, argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const names = backend.variants.map((v) => v.name);
  const args = parseDemoArgs(argv, process.stdin.isTTY === true, process.env, names);
  if (args.ok === 'help') {
    process.stdout.write(`${demoUsage(names)}\n`);
    return;
  }
  if (!args.ok) {
    process.stderr.write(`demo: ${args.message}\n${demoUsage(names)}\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  const options = args.options;
  await runAsProcess((io) => runDemo(backend, options, io));
}
