import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createControlServer } from './control/server.js';
import { Simulator } from './simulator.js';
import type { SimulatorHandle, SimulatorOptions } from './types.js';

export type { BackupRecord } from './control/backups.js';
export {
  RUNBOOK_HOST_ACTIONS,
  type RunbookHostAction,
  SIM_HOST_ENDPOINTS,
  type SimHostActionsOptions,
  simHostActions,
} from './control/recovery-actions.js';
export { createReaderRole, type ReaderRole, readerRoleGrants } from './db/reader-role.js';
export type { SeedOptions, SeedResult } from './db/seed.js';
export { ServiceAccountsInvalidError, SimError, SimErrorCode } from './errors.js';
export {
  DEV_SERVICE_ACCOUNTS,
  PERMISSIONS,
  parseServiceAccounts,
  type ServiceAccountConfig,
  type ServiceAccountsFile,
} from './http/service-accounts.js';
export {
  DEFAULT_FAULT_TENANT,
  FAULT_NAMES,
  type FaultName,
  type FaultOptions,
  HOST_ANSWER_FAULTS,
  type HostActionRequest,
  isFaultName,
  isTenantFault,
  type RateLimits,
  SIM_HOST_ACTIONS,
  type SimulatorHandle,
  type SimulatorOptions,
  TENANT_FAULTS,
  type TenantFaultName,
} from './types.js';
export { ManualClock, REAL_CLOCK, type SimClock } from './util/clock.js';
export { coveredMs, type ImposedWait } from './util/imposed-waits.js';
export {
  faultsWithVariants,
  isVariantName,
  unknownVariantMessage,
  VARIANT_NAMES,
  VARIANTS,
  type Variant,
  type VariantName,
  type VariantOptions,
  variantOptions,
} from './variants.js';

/**
 * Starts a DecisionGraph stand-in: its own database (seeded, projected), the API on `port`, and the control API
 * on `controlPort`. Close it with `handle.close()`.
 */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = await Simulator.start(opts);
  const controlToken = opts.controlToken ?? randomBytes(18).toString('base64url');
  const control = createControlServer(sim, controlToken);
  const host = opts.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject);
      control.listen(opts.controlPort ?? 0, host, () => resolve());
    });
  } catch (err) {
    await sim.close();
    throw err;
  }
  const controlPort = (control.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    get url() {
      return sim.url;
    },
    controlUrl: `http://${host}:${controlPort}`,
    controlToken,
    databaseUrl: sim.databaseUrl,
    known: sim.known,
    inject: (fault, faultOpts) => sim.inject(fault, faultOpts),
    clear: (fault, faultOpts) => sim.clear(fault, faultOpts),
    hostActionCounts: () => sim.hostActionCounts(),
    hostActionRequests: () => sim.hostActionRequests(),
    imposedWaits: () => sim.imposed.list(),
    close() {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          control.close(() => resolve());
          control.closeAllConnections();
        });
        await sim.close();
      })();
      return closed;
    },
  };
}
