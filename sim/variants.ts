import type { SimulatorOptions } from './types.js';

/**
 * What real incidents bring beyond each scenario's textbook fault. A variant is added on top of the scenario's
 * fault: `npm run sim -- --variant NAME`, `npm run demo -- <scenario> --variant NAME`.
 */
export const VARIANT_NAMES = ['slow-replays', 'lagging-restore', 'orphaned-runs'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** The simulator options a variant may set; times are at time scale 1. */
export type VariantOptions = Pick<SimulatorOptions, 'faults' | 'faultsInBackups' | 'replayDurationMs'>;

export interface Variant {
  /** One sentence: what the on-call engineer meets. */
  readonly story: string;
  readonly options: Readonly<VariantOptions>;
}

export const VARIANTS: { readonly [K in VariantName]: Variant } = {
  'slow-replays': {
    story: 'every replay run, even a catch_up with nothing to do, stays running for several seconds',
    options: { replayDurationMs: 6_000 },
  },
  'lagging-restore': {
    story:
      'the backups were taken while projections lagged: after a restore and a start the projectors stay idle with ' +
      'pending events',
    options: { faultsInBackups: ['projections-behind'] },
  },
  'orphaned-runs': {
    story: 'the backups hold a replay run a crash left running: after a restore it is an orphan nobody owns',
    options: { faultsInBackups: ['orphaned-run'] },
  },
};

export function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** The error for a name that is not a variant, listing the valid ones. */
export function unknownVariantMessage(name: string): string {
  return `unknown variant "${name.slice(0, 40)}"; valid variants: ${VARIANT_NAMES.join(', ')}`;
}

/** Options that are durations, multiplied by the time scale. */
const DURATIONS = ['replayDurationMs'] as const satisfies readonly (keyof VariantOptions)[];

/**
 * The simulator options of `names` together, with durations multiplied by `timeScale` (the demo's 0.1 keeps a
 * six-second replay under a second). Fault lists are joined in the order given.
 */
export function variantOptions(names: readonly VariantName[], timeScale = 1): VariantOptions {
  const out: VariantOptions = {};
  for (const name of names) {
    const o = VARIANTS[name].options;
    if (o.faults) out.faults = [...(out.faults ?? []), ...o.faults];
    if (o.faultsInBackups) out.faultsInBackups = [...(out.faultsInBackups ?? []), ...o.faultsInBackups];
    for (const key of DURATIONS) {
      const ms = o[key];
      if (ms !== undefined) out[key] = Math.max(out[key] ?? 0, Math.round(ms * timeScale));
    }
  }
  return out;
}
