/**
 * A wait the simulator imposed on its clients: a node boot, a replay run from its start to its end, or a host
 * action from its request to its answer.
 */
export interface ImposedWait {
  readonly kind: 'boot' | 'replay' | 'host';
  /** Epoch ms of the simulator's clock. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/** What the simulator made clients wait for, as it happened, so a benchmark can tell the floor from its own time. */
export class ImposedWaits {
  private readonly waits: ImposedWait[] = [];

  record(kind: ImposedWait['kind'], startedAt: number, endedAt: number): void {
    this.waits.push({ kind, startedAt, endedAt });
  }

  list(): ImposedWait[] {
    return [...this.waits];
  }
}

/** How long at least one wait was going on between `from` and `to`: overlapping waits count once. */
export function coveredMs(waits: readonly ImposedWait[], from: number, to: number): number {
  const spans = waits
    .map((w) => [Math.max(w.startedAt, from), Math.min(w.endedAt, to)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [s, e] of spans) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}
