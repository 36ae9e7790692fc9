import type { SimulatorHandle } from '../../../sim/index.js';
import { DgHttpClient, type DgHttpClientOptions } from '../../../src/executors/dg-http/client.js';
import type { DgCallResult } from '../../../src/executors/dg-http/evidence.js';

/** Makes clients (the file's defaults, then the test's options) and closes every one it made. */
export interface ClientMaker {
  (options?: Partial<DgHttpClientOptions>): DgHttpClient;
  closeAll(): Promise<void>;
}

/** `defaults` is read when a client is made, so it may name a server that starts later. */
export function clientMaker(defaults: () => DgHttpClientOptions): ClientMaker {
  const made: DgHttpClient[] = [];
  const make = (options: Partial<DgHttpClientOptions> = {}) => {
    const c = new DgHttpClient({ ...defaults(), ...options });
    made.push(c);
    return c;
  };
  return Object.assign(make, {
    async closeAll() {
      await Promise.all(made.splice(0).map((c) => c.close()));
    },
  });
}

/** A client of the simulator with its development tokens. */
export function simClientOptions(sim: SimulatorHandle): DgHttpClientOptions {
  return { baseUrl: sim.url, apiToken: 'dev-reader-token', adminToken: 'dev-admin-token' };
}

export function errorOf<T>(result: DgCallResult<T>) {
  if (result.ok) throw new Error(`expected a failure, got ${result.evidence.status}`);
  return result.error;
}
