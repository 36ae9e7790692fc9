// A worker process for the crash tests: runs the step workers, the journal writer and the reconciler against the
// Redis prefix and journal the test names. It loads its modules first and says `warm`, then takes its settings as
// its first message: a process started ahead is ready to run steps as soon as it is needed, however long loading
// takes on a busy machine. With `killAt` (<event type>:<step id>) it kills itself with SIGKILL right after
// appending that event (the append also announces it), before acting on it: a crash at an exact step boundary.
import { loadConfig } from '../../../src/config/env.js';
import { parseRecoveryConfig } from '../../../src/config/recovery-config.js';
import { createRecoveryRuntime, type TimeScale } from '../../../src/jobs/index.js';
import { createLogger } from '../../../src/logger.js';
import type { RunEvent } from '../../../src/runbook/index.js';
import { FAST_JOURNAL_WRITER } from './journal-timings.js';

export interface EntrySettings {
  readonly env: Record<string, string>;
  readonly recoveryYaml: string;
  readonly controlToken: string;
  readonly prefix: string;
  readonly timeScale: number | TimeScale;
  readonly killAt?: string;
  /** Run with the step worker's production lock and stalled-check settings instead of the fast ones. */
  readonly productionLocks?: boolean;
}

const settings = await new Promise<EntrySettings>((resolve) => {
  process.once('message', (message) => resolve(message as EntrySettings));
  process.send?.('warm');
});

function matches(event: RunEvent, killAt: string): boolean {
  const [type, stepId] = killAt.split(':');
  return event.type === type && (stepId === undefined || ('stepId' in event && event.stepId === stepId));
}

const config = loadConfig(settings.env);
const recovery = parseRecoveryConfig(settings.recoveryYaml, 'worker.yaml', {
  SIM_CONTROL_TOKEN: settings.controlToken,
});
const runtime = await createRecoveryRuntime(config, recovery, {
  logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  role: 'workers',
  prefix: settings.prefix,
  timeScale: settings.timeScale,
  // A killed worker's job is taken over within about a second, unless the test measures production's settings.
  worker: settings.productionLocks
    ? { closeTimeoutMs: 2000 }
    : { lockDurationMs: 1000, stalledIntervalMs: 500, closeTimeoutMs: 2000 },
  journalWriter: FAST_JOURNAL_WRITER,
  reconcileIntervalMs: 0,
  // The simulator's database URL is its superuser's, which the role guard refuses.
  executorDeps: { requireReadOnlyRole: false },
  onAppended: (_runId, events) => {
    const killAt = settings.killAt;
    if (killAt !== undefined && events.some((e) => matches(e, killAt))) process.kill(process.pid, 'SIGKILL');
  },
});
await runtime.startWorkers();
process.send?.('ready');

process.on('SIGTERM', () => {
  runtime.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
