// `npm run demo`: the one place that knows both the product and the simulator. It starts the DecisionGraph
// simulator and hands the product's demo runner a DemoBackend of plain data; nothing under src/ imports sim/, so
// the product's build does not ship it.
import {
  DEV_SERVICE_ACCOUNTS,
  type FaultName,
  faultsWithVariants,
  isVariantName,
  simHostActions,
  startSimulator,
  unknownVariantMessage,
  VARIANT_NAMES,
  VARIANTS,
  type VariantName,
  variantOptions,
} from '../sim/index.js';
import { demoMain } from '../src/cli/demo.js';
import type { DemoBackend, DemoBackendRequest, DemoDecisionGraph, DemoIncident } from '../src/cli/demo-backend.js';
import type { ScenarioName } from '../src/runbook/index.js';

interface Plan extends DemoIncident {
  /** Faults switched on before the simulator listens. */
  readonly faults: readonly FaultName[];
  /** The deployment allows rebuilds (the scenario may recommend one). */
  readonly allowRebuild: boolean;
}

/** Each scenario's incident, staged as the simulator's faults. */
const PLANS: { readonly [K in ScenarioName]: Plan } = {
  restart: {
    faults: ['node-down'],
    allowRebuild: false,
    story: 'the DecisionGraph node is down (its API refuses connections) while Postgres is healthy',
  },
  postgres: {
    faults: ['postgres-down'],
    allowRebuild: false,
    story: "DecisionGraph's Postgres refuses connections; healthz still answers 200 with projection health unavailable",
  },
  projections: {
    faults: ['projections-behind', 'orphaned-run'],
    allowRebuild: false,
    story:
      'projections are behind with no worker running, and a replay run cut off by a restart is still marked running',
  },
  'event-log': {
    faults: ['hash-drift'],
    allowRebuild: true,
    story: "one event's payload was rewritten under its old hash: the event log is damaged",
  },
  upgrade: {
    faults: ['failed-upgrade'],
    allowRebuild: true,
    story: 'release v2-broken was deployed: trace reads fail and trace_summary is fully behind',
  },
};

/** Runbook steps left to a person that the control API does instead: writers come back after a restore. */
const MANUAL_STEPS = {
  resume_writes: { path: '/host/resume-writes', note: "demo: writes resumed through the simulator's control API" },
};

/** The first token of the simulator's dev account holding `role`. */
function devToken(role: string): string {
  const token = DEV_SERVICE_ACCOUNTS.service_accounts.find((a) => a.roles.includes(role))?.token;
  if (token === undefined) throw new Error(`the simulator has no ${role} dev account`);
  return token;
}

async function start(request: DemoBackendRequest): Promise<DemoDecisionGraph> {
  const plan = PLANS[request.scenario];
  const variants = request.variants.map((v): VariantName => {
    if (!isVariantName(v)) throw new RangeError(unknownVariantMessage(v));
    return v;
  });
  const sim = await startSimulator({
    ...variantOptions(variants, request.timeScale),
    faults: faultsWithVariants(plan.faults, variants),
    allowRebuild: plan.allowRebuild,
    databaseUrl: request.databaseUrl,
    adminDatabaseUrl: request.adminDatabaseUrl,
    seed: { tracesPerTenant: 120 },
  });
  return {
    baseUrl: sim.url,
    tenantId: sim.known.tenantId,
    knownTraceId: sim.known.traceId,
    knownWorkflowId: sim.known.workflowId,
    readerToken: devToken('reader'),
    adminToken: devToken('admin'),
    controlUrl: sim.controlUrl,
    controlToken: sim.controlToken,
    hostActions: simHostActions(sim.controlUrl, { tokenVariable: request.controlTokenVariable }),
    manualSteps: Object.fromEntries(
      Object.entries(MANUAL_STEPS).map(([step, { path, note }]) => [step, { url: `${sim.controlUrl}${path}`, note }]),
    ),
    hostActionCounts: () => sim.hostActionCounts(),
    close: () => sim.close(),
  };
}

/** The simulator as the demo's DecisionGraph. */
const SIMULATOR_BACKEND: DemoBackend = {
  incidents: PLANS,
  variants: VARIANT_NAMES.map((name) => ({ name, story: VARIANTS[name].story })),
  start,
};

await demoMain(SIMULATOR_BACKEND);
