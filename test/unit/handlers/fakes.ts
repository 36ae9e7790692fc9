import { Writable } from 'node:stream';
import { vi } from 'vitest';
import type { Access } from '../../../src/config/recovery-config.js';
import type { HandlerDeps } from '../../../src/handlers/handler-deps.js';
import type { CommandOutcome, RunService } from '../../../src/jobs/run-service-port.js';
import { createLogger } from '../../../src/logger.js';
import { foldRun, type RunEvent } from '../../../src/runbook/index.js';

export const OPERATOR = 'U0ANA';
export const APPROVER = 'U0BO';
export const OUTSIDER = 'U0EVE';
export const CHANNEL = 'C0INCIDENT';

export const ACCESS: Access = {
  operators: [OPERATOR, APPROVER],
  approvers: [APPROVER],
  channels: [CHANNEL],
  twoPersonRule: true,
};

/** A logger whose lines the test can read (to check refusals are recorded). */
export function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return {
    logger: createLogger({ level: 'info' }, stream),
    lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const OK: CommandOutcome = { ok: true, events: [] };

/** A run service whose answers the test sets; every call is recorded by vitest. */
export function fakeService(events: RunEvent[] = []) {
  let log = events;
  const service = {
    start: vi.fn<RunService['start']>(async () => ({ ok: true as const, runId: 'run-0a1b2c3d4e' })),
    decide: vi.fn<RunService['decide']>(async () => OK),
    approve: vi.fn<RunService['approve']>(async () => OK),
    reject: vi.fn<RunService['reject']>(async () => OK),
    manualDone: vi.fn<RunService['manualDone']>(async () => OK),
    retry: vi.fn<RunService['retry']>(async () => OK),
    skip: vi.fn<RunService['skip']>(async () => OK),
    abort: vi.fn<RunService['abort']>(async () => OK),
    get: vi.fn<RunService['get']>(async () => (log.length > 0 ? { events: log, state: foldRun(log) } : null)),
    listActive: vi.fn<RunService['listActive']>(async () => []),
    subscribe: vi.fn<RunService['subscribe']>(async () => async () => undefined),
  };
  return {
    service,
    setEvents(next: RunEvent[]) {
      log = next;
    },
  };
}

export function depsWith(service: RunService, extra: Partial<HandlerDeps> = {}) {
  const { logger, lines } = capturingLogger();
  const deps: HandlerDeps = { service, access: ACCESS, logger, ...extra };
  return { deps, lines };
}

/** Records what a listener sends back, and in which order relative to the service calls. */
export class Timeline {
  readonly entries: string[] = [];
  mark(entry: string) {
    this.entries.push(entry);
  }
}
