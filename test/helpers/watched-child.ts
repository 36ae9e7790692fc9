import type { ChildProcess } from 'node:child_process';

/** A child process whose output a test reads as it comes, waiting for what a person would wait to see. */
export interface WatchedChild {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code once the process has ended and its output is read. */
  readonly exited: Promise<number | null>;
  /** Resolves when stdout holds `text`; fails if the process ends first. */
  logged(text: string): Promise<void>;
}

/** Reads a child's stdout and stderr (both must be pipes) from now on. */
export function watchChild(child: ChildProcess): WatchedChild {
  const waiters: Array<{ text: string; done: () => void }> = [];
  const watched: WatchedChild = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((done) => child.on('close', (code) => done(code))),
    logged(text) {
      if (watched.stdout.includes(text)) return Promise.resolve();
      return new Promise((done, fail) => {
        waiters.push({ text, done });
        watched.exited.then((code) =>
          fail(new Error(`exited ${code} before logging "${text}":\n${watched.stdout}\n${watched.stderr}`)),
        );
      });
    },
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    watched.stdout += chunk.toString();
    for (const w of waiters.filter((x) => watched.stdout.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.done();
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    watched.stderr += chunk.toString();
  });
  return watched;
}
