import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { parseRecoveryConfig, type RecoveryConfig } from '../../../src/config/recovery-config.js';

/** A recovery config built the way a deployment writes it: YAML text through the real parser. */
export function configWith(
  actions: Record<string, unknown>,
  env: Record<string, string | undefined> = { PATH: '/usr/local/bin:/usr/bin:/bin' },
): RecoveryConfig {
  return parseRecoveryConfig(stringify({ actions }), 'host-actions.test.yaml', env);
}

/** `node -e <script> ...args` as a configured argv: a real process without any shell. */
export function nodeArgv(script: string, ...args: string[]): string[] {
  // `--` keeps node from reading the script's arguments as its own options.
  return [process.execPath, '-e', script, '--', ...args];
}

/** Running means present and not a zombie waiting for a reaper. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Signal delivery is asynchronous; the kernel gives no event to await for a foreign process ending. */
export async function goneWithin(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isRunning(pid)) return true;
    await delay(20);
  }
  return !isRunning(pid);
}
