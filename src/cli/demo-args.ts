import { findScenario, type ScenarioName } from '../runbook/index.js';
import { unknownScenarioMessage } from './args.js';
import { parseStrict, refusalMessage } from './strict-args.js';

/** The demo's help text, listing the backend's variants. */
export function demoUsage(variants: readonly string[]): string {
  return `usage: npm run demo [-- <scenario>] [--auto | --no-auto] [--time-scale F] [--summary-dir DIR]
                     [--variant NAME]... [--postgres-url URL] [--redis-url URL]

Starts the DecisionGraph simulator with the scenario's fault injected (default scenario: restart), points every
host action at the simulator, and runs the scenario through the terminal front end, ending with the incident
summary. Exits 0 only when the run ends recovered.

  --auto            take the recommended option at each decision and approve as a second operator
                    (the default when stdin is not a terminal; --no-auto asks at the prompt instead)
  --time-scale F    multiply poll intervals, deadlines and backoffs by F (default 0.1; 1 for real timings)
  --summary-dir D   where dg-recovery-<run>.md is written (default: dg-recovery-demo in the system's temporary
                    directory); the demo prints its path, not the summary
  --variant NAME    add what a real incident brings to the scenario's fault (repeatable): ${variants.join(', ')}
  --postgres-url U  the local Postgres server (default postgres://root@127.0.0.1:5432/postgres); the simulator's
                    database and the demo's journal database are created there and dropped at the end
  --redis-url U     Redis (default redis://127.0.0.1:6379); the demo uses a fresh key prefix and removes it`;
}

/** The error for a name that is not a variant, listing the valid ones. */
export function unknownVariantMessage(name: string, variants: readonly string[]): string {
  return `unknown variant "${name.slice(0, 40)}"; valid variants: ${variants.join(', ')}`;
}

export interface DemoOptions {
  readonly scenario: ScenarioName;
  readonly auto: boolean;
  readonly timeScale: number;
  readonly summaryDir?: string;
  /** Variants of the backend added to the scenario's fault. */
  readonly variants: readonly string[];
  readonly postgresUrl: string;
  readonly redisUrl: string;
}

export type DemoArgs = { ok: true; options: DemoOptions } | { ok: false; message: string } | { ok: 'help' };

const DEFAULT_POSTGRES = 'postgres://root@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

const TEXT = { type: 'string' } as const;
const FLAG = { type: 'boolean' } as const;
const DEMO_OPTIONS = {
  help: { ...FLAG, short: 'h' },
  auto: FLAG,
  'no-auto': FLAG,
  'time-scale': TEXT,
  'summary-dir': TEXT,
  variant: { ...TEXT, multiple: true },
  'postgres-url': TEXT,
  'redis-url': TEXT,
} as const;

/**
 * Parses the demo's own arguments; `stdinIsTty` decides the default of `--auto`, `knownVariants` are the names
 * `--variant` accepts.
 */
export function parseDemoArgs(
  argv: readonly string[],
  stdinIsTty: boolean,
  env: Readonly<Record<string, string | undefined>>,
  knownVariants: readonly string[],
): DemoArgs {
  const read = parseStrict(argv, DEMO_OPTIONS);
  if (!read.ok) return { ok: false, message: refusalMessage(read.refusal) };
  const { values, positionals, options } = read;
  if (values.help) return { ok: 'help' };
  const [scenario = 'restart', extra] = positionals;
  if (extra !== undefined) return { ok: false, message: `unexpected argument "${extra.slice(0, 40)}"` };
  const timeScale = Number(values['time-scale'] ?? 0.1);
  if (!(timeScale > 0 && timeScale <= 10))
    return { ok: false, message: '--time-scale must be a number above 0, at most 10' };
  const variants: string[] = [];
  for (const v of values.variant ?? []) {
    if (!knownVariants.includes(v)) return { ok: false, message: unknownVariantMessage(v, knownVariants) };
    if (!variants.includes(v)) variants.push(v);
  }
  const found = findScenario(scenario);
  if (found === undefined) return { ok: false, message: unknownScenarioMessage(scenario) };
  // The last of --auto and --no-auto wins.
  const auto = options.findLast((o) => o.name === 'auto' || o.name === 'no-auto');
  const summaryDir = values['summary-dir'];
  return {
    ok: true,
    options: {
      scenario: found.name,
      auto: auto === undefined ? !stdinIsTty : auto.name === 'auto',
      timeScale,
      ...(summaryDir !== undefined ? { summaryDir } : {}),
      variants,
      postgresUrl: values['postgres-url'] ?? (env.DEMO_POSTGRES_URL || DEFAULT_POSTGRES),
      redisUrl: values['redis-url'] ?? (env.REDIS_URL || DEFAULT_REDIS),
    },
  };
}
