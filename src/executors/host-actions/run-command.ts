import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { OutputTail } from './output-tail.js';
import { BACKUP_LIST_MAX_BYTES, OUTPUT_TAIL_BYTES } from './types.js';

export interface CommandRun {
  readonly argv: readonly string[];
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly killGraceMs: number;
  /** Keep all of stdout (up to {@link BACKUP_LIST_MAX_BYTES}) for parsing. */
  readonly keepStdout: boolean;
  readonly signal?: AbortSignal | undefined;
}

export interface CommandOutcome {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The process could not be started (missing program, not executable). */
  readonly spawnError: string | null;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  readonly killedWith: 'SIGTERM' | 'SIGKILL' | null;
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
}

/**
 * How long to wait for the output pipes after the program exits. A program that starts a daemon leaves it
 * holding the pipes; the daemon is meant to live on, so the bot stops reading instead of waiting for it.
 */
const PIPE_DRAIN_MS = 1000;

/**
 * Runs argv without a shell, in its own process group so that a timeout or abort stops everything the program
 * started: SIGTERM to the group, then SIGKILL to whatever is left after the grace period. A program that ends on
 * its own is never signalled, and neither is anything it deliberately left running.
 */
export function runCommand(run: CommandRun): Promise<CommandOutcome> {
  const stdout = new OutputTail(OUTPUT_TAIL_BYTES, run.keepStdout ? BACKUP_LIST_MAX_BYTES : 0);
  const stderr = new OutputTail(OUTPUT_TAIL_BYTES);
  const startedAt = new Date();
  const started = performance.now();
  const [program, ...args] = run.argv;

  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    let killedWith: 'SIGTERM' | 'SIGKILL' | null = null;
    let exit: { code: number | null; signal: string | null } | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(program ?? '', args, {
        shell: false,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...run.env },
        windowsHide: true,
      });
    } catch (err) {
      // Synchronous refusals (a NUL byte in an argument, an empty program name) never start anything.
      resolve({
        startedAt,
        durationMs: 0,
        exitCode: null,
        signal: null,
        spawnError: `cannot start ${program ?? '(no program)'}: ${(err as Error).message}`,
        timedOut: false,
        aborted: false,
        killedWith: null,
        stdout,
        stderr,
      });
      return;
    }
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    const finish = (spawnError: string | null) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      run.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        startedAt,
        durationMs: Math.round(performance.now() - started),
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        spawnError,
        timedOut,
        aborted,
        killedWith,
        stdout,
        stderr,
      });
    };

    const signalGroup = (sig: 'SIGTERM' | 'SIGKILL'): boolean => {
      if (child.pid === undefined) return false;
      try {
        process.kill(-child.pid, sig);
        killedWith = sig;
        return true;
      } catch {
        return false; // ESRCH: the whole group is already gone
      }
    };

    const groupAlive = (): boolean => child.pid !== undefined && processGroupAlive(child.pid);

    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      signalGroup('SIGTERM');
      timers.push(
        setTimeout(() => {
          if (groupAlive()) signalGroup('SIGKILL');
          if (exit !== null) finish(null);
          // A process stuck in the kernel cannot even be SIGKILLed; report rather than hang the step.
          else timers.push(setTimeout(() => finish(null), run.killGraceMs));
        }, run.killGraceMs),
      );
    };

    function onAbort() {
      aborted = true;
      stop();
    }

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Only a failure to start is final here; errors after spawn also surface as 'exit'.
      if (child.pid === undefined) finish(`${err.code ?? 'error'}: cannot start ${program ?? '(no program)'}`);
    });

    child.on('exit', (code, signal) => {
      if (child.pid === undefined) return; // a failed spawn; the 'error' listener settles it
      exit = { code, signal };
      const afterDrain = () => {
        // After a timeout, members of the group that outlive the leader get the grace period and then SIGKILL.
        // Once SIGKILL went out, only zombies can remain, and an init that does not reap them must not hang us.
        if (stopping && killedWith !== 'SIGKILL' && groupAlive()) return;
        finish(null);
      };
      if (child.stdout.readableEnded && child.stderr.readableEnded) afterDrain();
      else {
        child.once('close', afterDrain);
        timers.push(setTimeout(afterDrain, PIPE_DRAIN_MS));
      }
    });

    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, run.timeoutMs),
    );

    if (run.signal?.aborted) onAbort();
    else run.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Whether any process of the group is still running. A zombie counts as gone: it has released everything, and
 * where the init process is slow to reap orphans, waiting for zombies would only delay the result by the grace
 * period. Without `/proc` the group is taken as alive while signal 0 reaches it.
 */
function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') return true;
    } catch {
      // The process ended while the list was read.
    }
  }
  return false;
}
