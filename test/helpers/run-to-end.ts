import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The project's root, where `npm`, `bin/` and `src/` resolve as for a person at a shell. */
export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command from the project root with no input, to its end, and returns its exit code and output. */
export function runToEnd(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
