import type { FaultName, SimulatorOptions } from './types.js';

/**
 * What real incidents bring beyond each scenario's textbook fault. A variant is added on top of the scenario's
 * fault: `npm run sim -- --variant NAME`, `npm run demo -- <scenario> --variant NAME`.
 */
export const VARIANT_NAMES = [
  'slow-replays',
  'lagging-restore',
  'orphaned-runs',
  'drifted-backup',
  'unlabelled-backups',
  'cursors-ahead',
] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** The simulator options a variant may set; times are at time scale 1. */
export type VariantOptions = Pick<SimulatorOptions, 'faults' | 'faultsInBackups' | 'replayDurationMs'>;

export interface Variant {
  /** One sentence: what the on-call engineer meets. */
  readonly story: string;
  readonly options: Readonly<VariantOptions>;
  /** Textbook faults this variant stands in for: they are left out when it is added to a scenario's faults. */
  readonly replaces?: readonly FaultName[];
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
  'drifted-backup': {
    story:
      'the newest backup was taken while events carried payload-hash drift: restoring it brings the damage back, ' +
      'and another backup must be chosen',
    options: { faults: ['drifted-backup'] },
  },
  'unlabelled-backups': {
    story:
      'nobody labelled a backup pre-upgrade, and the newest one was taken after the broken release went in: ' +
      'only the time of the upgrade tells which backup to restore',
    options: { faults: ['failed-upgrade-unlabelled'] },
    replaces: ['failed-upgrade'],
  },
  'cursors-ahead': {
    story:
      'projection tables are newer than the event log (restored from another time): health looks clean while the ' +
      'cursors stand past the tail',
    options: { faults: ['cursor-ahead'] },
    replaces: ['projections-behind'],
  },
};

export function isVariantName(value: string): value is VariantName {
  return (VARIANT_NAMES as readonly string[]).includes(value);
}

/** The error for a name that is not a variant, listing the valid ones. */
export function unknownVariantMessage(name: string): string {
  return `unknown variant "${name.slice(0, 40)}"; valid variants: ${VARIANT_NAMES.join(', ')}`;
}

/** The faults of a scenario (`base`) with `names` added: the faults a variant replaces are left out. */
export function faultsWithVariants(base: readonly FaultName[], names: readonly VariantName[]): FaultName[] {
  const replaced = new Set(names.flatMap((n) => VARIANTS[n].replaces ?? []));
  return [...base.filter((f) => !replaced.has(f)), ...(variantOptions(names).faults ?? [])];
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
