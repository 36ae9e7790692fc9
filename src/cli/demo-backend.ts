import type { ScenarioName } from '../runbook/index.js';

// The one way the demo reaches a DecisionGraph: `demo/main.ts` starts the simulator behind this interface and
// hands it over as plain data, so the product never imports the simulator and its build does not ship it.

/** What the backend stages for a scenario. */
export interface DemoIncident {
  /** One sentence for the demo's header. */
  readonly story: string;
  /** The backend's names for what it breaks, for the header. */
  readonly faults: readonly string[];
}

/** Something a real incident brings on top of a scenario's fault (`--variant NAME`). */
export interface DemoVariant {
  readonly name: string;
  /** One sentence: what the on-call engineer meets. */
  readonly story: string;
}

/** What the demo asks the backend to start. */
export interface DemoBackendRequest {
  readonly scenario: ScenarioName;
  /** Names among {@link DemoBackend.variants}, in the order given. */
  readonly variants: readonly string[];
  /** Multiplies the backend's own durations (slow replays), as it does the runbook's waits. */
  readonly timeScale: number;
  /** DecisionGraph's database: created empty by the demo, the read-only role already granted in it. */
  readonly databaseUrl: string;
  /** The server's maintenance database (the fault that takes Postgres away needs it). */
  readonly adminDatabaseUrl: string;
  /** The environment variable the recovery config reads the control token from; never the token itself. */
  readonly controlTokenVariable: string;
}

/** A running DecisionGraph, as plain data plus the two calls the demo makes on it. */
export interface DemoDecisionGraph {
  /** DecisionGraph's API, e.g. `http://127.0.0.1:41234`. */
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly knownTraceId: string;
  readonly knownWorkflowId: string | null;
  /** DecisionGraph API tokens: a reader for reads, an admin for replays. */
  readonly readerToken: string;
  readonly adminToken: string;
  /** Where the host actions are performed, and the bearer token they take. */
  readonly controlUrl: string;
  readonly controlToken: string;
  /**
   * The recovery config's `actions:` section as plain data, the token referenced as
   * `${env:<controlTokenVariable>}`; the demo validates it with the recovery config's own schema.
   */
  readonly hostActions: Readonly<Record<string, unknown>>;
  /**
   * Runbook steps left to a person (not host actions) that the backend can do for `--auto`: the URL to POST with
   * the control token, and the note recorded with "Done".
   */
  readonly manualSteps: Readonly<Record<string, { readonly url: string; readonly note: string }>>;
  /** How often each host action ran so far, by the backend's names. */
  hostActionCounts(): Readonly<Record<string, number>>;
  /** Stops the backend; the demo drops the database afterwards. */
  close(): Promise<void>;
}

/** The DecisionGraph the demo runs against. */
export interface DemoBackend {
  /** Every scenario's staged incident. */
  readonly incidents: { readonly [K in ScenarioName]: DemoIncident };
  /** The variants `--variant` accepts, in the order the help lists them. */
  readonly variants: readonly DemoVariant[];
  start(request: DemoBackendRequest): Promise<DemoDecisionGraph>;
}
