import { realpathSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Whether the module at `moduleUrl` is the script node was started with (not merely imported). */
export function isEntryModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/** The streams, environment and Ctrl-C signal a terminal command runs with; tests pass their own. */
export interface ProcessIo {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  /** The environment the configuration is read from. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Ctrl-C: stop following a run (it goes on, recorded) and exit. */
  readonly signal?: AbortSignal;
}

/** How long a finished command waits for the process to end by itself before it ends it. */
const EXIT_AFTER_MS = 1000;

/**
 * Runs a terminal command on the real process: a first Ctrl-C aborts its signal (after `onFirstInterrupt`), a
 * second one exits at once; the command's result becomes the exit code, and the process ends soon after.
 */
export async function runAsProcess(
  command: (io: ProcessIo) => Promise<number>,
  onFirstInterrupt?: () => void,
): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    onFirstInterrupt?.();
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    process.exitCode = await command({
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
    // Everything is closed; a timer a library left behind after a close cut short (BullMQ's lock extender, when
    // Redis was away) must not keep a finished command running.
    setTimeout(() => process.exit(), EXIT_AFTER_MS).unref();
  }
}
