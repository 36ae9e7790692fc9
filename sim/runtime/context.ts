import type pg from 'pg';
import type { AccountRegistry } from '../http/service-accounts.js';
import type { FaultName } from '../types.js';
import type { SimClock } from '../util/clock.js';
import type { NodeProcess } from './node-process.js';

/** The release the host runs; `v2-broken` is the failed upgrade, `v1` the previous known-good one. */
export const GOOD_RELEASE = 'v1';
export const BROKEN_RELEASE = 'v2-broken';

/**
 * What lives on the host and survives a node restart: the installed release, the switches an operator flips,
 * the active faults.
 */
export interface HostState {
  release: string;
  /** When the release was installed; `null` for the one running when the simulator started. */
  releaseInstalledAt: string | null;
  /** Writes are refused at the database (every write transaction is opened READ ONLY). */
  writesStopped: boolean;
  /** `admin_controls.allow_rebuild` as configured. */
  allowRebuild: boolean;
  latencyMs: number;
  slowLatencyMs: number;
  faults: Set<FaultName>;
  /** Host actions (or `*`, every one) whose answers a host-answer fault keeps from the caller, and how. */
  lostAnswers: Map<string, 'cut-off' | 'answer-lost'>;
}

/** How the answer of host action `action` is lost, if a host-answer fault is on for it. */
export function lostAnswerOf(host: HostState, action: string): 'cut-off' | 'answer-lost' | undefined {
  return host.lostAnswers.get(action) ?? host.lostAnswers.get('*');
}

/** Everything a request handler may use. `node` is replaced on every (re)start. */
export interface SimContext {
  pool: pg.Pool;
  registry: AccountRegistry;
  store: { database: string; hostname: string };
  deploymentEnv: string;
  host: HostState;
  node: NodeProcess;
  /** Every timestamp written and every duration served. */
  clock: SimClock;
}

export function rebuildAllowed(host: HostState): boolean {
  return host.allowRebuild && !host.faults.has('rebuild-disabled');
}

export function brokenRelease(host: HostState): boolean {
  return host.release === BROKEN_RELEASE;
}
