import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEV_SERVICE_ACCOUNTS, parseServiceAccounts, type ServiceAccountsFile } from './http/service-accounts.js';
import { isFaultName, startSimulator } from './index.js';
import type { FaultName, SimulatorOptions } from './types.js';
import {
  faultsWithVariants,
  isVariantName,
  unknownVariantMessage,
  VARIANT_NAMES,
  VARIANTS,
  type VariantName,
  variantOptions,
} from './variants.js';

const USAGE = `usage: npm run sim -- [--port N] [--control-port N] [--fault NAME[=ACTION]]... [--variant NAME]...
                      [--database-url URL] [--allow-rebuild] [--events N | --traces N] [--boot-delay-ms N]
                      [--control-token T]

Starts a DecisionGraph simulator: its own database on the local Postgres (dropped on exit), seeded and
projected, serving DecisionGraph's API. Service accounts come from DECISION_GRAPH_SERVICE_ACCOUNTS_JSON or
DECISION_GRAPH_SERVICE_ACCOUNTS_FILE, else the dev accounts.

Variants (what real incidents bring on top of a fault):
${VARIANT_NAMES.map((n) => `  ${n.padEnd(16)}${VARIANTS[n].story}`).join('\n')}`;

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** DecisionGraph's boot order: the JSON variable, then the file; `DECISION_GRAPH_OPERATOR_ACCOUNT_ID` picks the actor. */
function accountsFromEnv(env: NodeJS.ProcessEnv): Pick<SimulatorOptions, 'serviceAccounts' | 'serviceAccountsSource'> {
  const json = env.DECISION_GRAPH_SERVICE_ACCOUNTS_JSON;
  const file = env.DECISION_GRAPH_SERVICE_ACCOUNTS_FILE;
  let doc: ServiceAccountsFile = DEV_SERVICE_ACCOUNTS;
  let source = 'application_env';
  if (json) {
    doc = parseServiceAccounts(JSON.parse(json));
    source = 'env_json';
  } else if (file) {
    doc = parseServiceAccounts(JSON.parse(readFileSync(file, 'utf8')));
    source = `file:${file}`;
  }
  const operator = env.DECISION_GRAPH_OPERATOR_ACCOUNT_ID;
  if (operator) doc = { ...doc, operator_console_account_id: operator };
  return doc === DEV_SERVICE_ACCOUNTS ? {} : { serviceAccounts: doc, serviceAccountsSource: source };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4100' },
      'control-port': { type: 'string', default: '4101' },
      fault: { type: 'string', multiple: true, default: [] },
      variant: { type: 'string', multiple: true, default: [] },
      'database-url': { type: 'string' },
      'allow-rebuild': { type: 'boolean', default: false },
      events: { type: 'string' },
      traces: { type: 'string' },
      'boot-delay-ms': { type: 'string' },
      'control-token': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const faults: FaultName[] = [];
  // `NAME=ACTION` switches a host-answer fault on for one host action, once the simulator runs.
  const perAction: { fault: FaultName; action: string }[] = [];
  for (const given of values.fault ?? []) {
    const [f = '', action] = given.split('=', 2);
    if (!isFaultName(f)) throw new Error(`unknown fault ${f}`);
    if (action === undefined) faults.push(f);
    else perAction.push({ fault: f, action });
  }
  const variants: VariantName[] = [];
  for (const v of values.variant ?? []) {
    if (!isVariantName(v)) throw new Error(unknownVariantMessage(v));
    variants.push(v);
  }
  const variant = variantOptions(variants);
  const events = int(values.events, 'events');
  const traces = int(values.traces, 'traces');
  const opts: SimulatorOptions = {
    port: int(values.port, 'port'),
    controlPort: int(values['control-port'], 'control-port'),
    ...variant,
    faults: faultsWithVariants(faults, variants),
    allowRebuild: values['allow-rebuild'],
    bootDelayMs: int(values['boot-delay-ms'], 'boot-delay-ms'),
    controlToken: values['control-token'] ?? process.env.DG_SIM_CONTROL_TOKEN,
    seed: events !== undefined ? { totalEvents: events } : traces !== undefined ? { tracesPerTenant: traces } : {},
    ...accountsFromEnv(process.env),
  };
  if (values['database-url']) opts.databaseUrl = values['database-url'];
  const sim = await startSimulator(opts);
  try {
    for (const { fault, action } of perAction) await sim.inject(fault, { action });
  } catch (err) {
    await sim.close();
    throw err;
  }
  const shown = [...faults, ...perAction.map((p) => `${p.fault}=${p.action}`)];
  const devAccounts = opts.serviceAccounts === undefined || opts.serviceAccountsSource === 'application_env';
  const lines = [
    `DecisionGraph simulator`,
    `  API            ${sim.url}`,
    `  control API    ${sim.controlUrl}  (Authorization: Bearer ${sim.controlToken})`,
    `  database       ${sim.databaseUrl}`,
    `  tenant         ${sim.known.tenantId}`,
    `  known trace    ${sim.known.traceId}`,
    `  known workflow ${sim.known.workflowId ?? '(none)'}`,
    devAccounts
      ? `  tokens         ${DEV_SERVICE_ACCOUNTS.service_accounts.map((a) => a.token).join(', ')}`
      : `  accounts       ${opts.serviceAccountsSource}`,
    shown.length > 0 ? `  faults         ${shown.join(', ')}` : '  faults         none',
    ...(variants.length > 0 ? [`  variants       ${variants.join(', ')}`] : []),
    'Ctrl-C stops the simulator and drops its database.',
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await sim.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
