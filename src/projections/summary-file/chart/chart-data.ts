import type { Evidence, RunEvent } from '../../../runbook/events.js';

// The readings the run's checks recorded (every poll of a wait, every probe, the checklist) as points of the
// run's chart: `pending_events` per projection, and whether healthz answered 200.

export interface PendingPoint {
  readonly at: string;
  readonly projection: string;
  readonly pending: number;
}

export interface HealthzPoint {
  readonly at: string;
  /** healthz answered 200. */
  readonly up: boolean;
}

export interface ChartData {
  /** The run's first and last event: the chart's time axis spans the whole run. */
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly pending: readonly PendingPoint[];
  readonly healthz: readonly HealthzPoint[];
}

const PER_PROJECTION = /^(?:checklist: )?([a-z][a-z0-9_]*) pending_events$/;
const ALL_PROJECTIONS = /^checklist: pending_events$/;
const HEALTHZ = /^(?:checklist: )?GET \/api\/healthz$/;

function pendingOf(at: string, item: Evidence): PendingPoint[] {
  const one = PER_PROJECTION.exec(item.label);
  if (one?.[1] !== undefined && typeof item.measured === 'number') {
    return [{ at, projection: one[1], pending: item.measured }];
  }
  const measured = item.measured;
  if (
    !ALL_PROJECTIONS.test(item.label) ||
    measured === null ||
    typeof measured !== 'object' ||
    Array.isArray(measured)
  ) {
    return [];
  }
  return Object.entries(measured).flatMap(([projection, pending]) =>
    typeof pending === 'number' ? [{ at, projection, pending }] : [],
  );
}

function evidenceOf(e: RunEvent): readonly Evidence[] {
  switch (e.type) {
    case 'step_waiting':
    case 'step_passed':
    case 'step_failed':
    case 'step_rechecked':
      return e.evidence;
    default:
      return [];
  }
}

/** The chart's points in log order; a run whose checks never read them gives empty series. */
export function chartData(events: readonly RunEvent[]): ChartData {
  const pending: PendingPoint[] = [];
  const healthz: HealthzPoint[] = [];
  for (const e of events) {
    for (const item of evidenceOf(e)) {
      pending.push(...pendingOf(e.at, item));
      if (HEALTHZ.test(item.label)) healthz.push({ at: e.at, up: item.measured === 200 });
    }
  }
  return { from: events[0]?.at, to: events.at(-1)?.at, pending, healthz };
}

/** There is something to draw: at least one reading of either series. */
export function hasReadings(data: ChartData): boolean {
  return data.pending.length > 0 || data.healthz.length > 0;
}
