import type { CommandOutcome, RunActor, RunService } from '../../src/jobs/index.js';
import { foldRun, type RunEvent, type RunState, reduce } from '../../src/runbook/index.js';

export const STARTER_ID = 'U0BENCHSTART';
export const APPROVER_ID = 'U0BENCHAPPROVE';

/** Starts runs, decides and confirms manual actions. */
export const STARTER: RunActor = { id: STARTER_ID, name: 'ana', via: 'slack' };
/** The second person: approves what the starter may not approve alone. */
export const APPROVER: RunActor = { id: APPROVER_ID, name: 'bo', via: 'slack' };

/** One run's live events, folded as they arrive, with a way to wait for a state. */
export class RunFollower {
  readonly events: RunEvent[] = [];
  state: RunState | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(readonly runId: string) {}

  push(event: RunEvent): void {
    this.events.push(event);
    this.state = this.state === undefined ? foldRun([event]) : reduce(this.state, event);
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once the run has reached `seq` and needs a person or has finished. */
  settled(afterSeq: number, timeoutMs: number): Promise<RunState> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const s = this.state;
        if (s !== undefined && s.lastSeq >= afterSeq && s.status !== 'running') {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(s);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const last = this.events.slice(-4).map((e) => `${e.type}${'stepId' in e ? `(${e.stepId})` : ''}`);
        reject(new Error(`run ${this.runId} stalled: ${this.state?.status ?? 'no events'} after ${last.join(' ')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

function lastSeq(outcome: CommandOutcome, fallback: number): number {
  if (!outcome.ok) throw new Error(`command refused: ${outcome.code} ${outcome.message}`);
  return outcome.events.at(-1)?.seq ?? fallback;
}

/**
 * Answers everything a run asks of people, at once, as a drill with `--auto` would: the recommended option
 * (with a reason when one is needed) from the starter, approvals from the second person, manual actions done
 * (`doManual` does what a person would first).
 * Returns the finished state; a pause is an error.
 */
export async function driveToEnd(
  service: RunService,
  run: RunFollower,
  timeoutMs = 60_000,
  doManual: (stepId: string) => Promise<void> = async () => undefined,
): Promise<RunState> {
  let seen = 0;
  for (let round = 0; round < 100; round++) {
    const s = await run.settled(seen, timeoutMs);
    seen = s.lastSeq;
    if (s.status === 'finished') return s;
    if (s.status === 'waiting_decision' && s.pendingDecision) {
      const p = s.pendingDecision;
      const option = p.options.find((o) => o.recommended) ?? p.options.find((o) => o.effect !== 'abort');
      if (!option) throw new Error(`no option to choose at ${p.stepId}`);
      const out = await service.decide(run.runId, {
        stepId: p.stepId,
        optionId: option.id,
        actor: STARTER,
        ...(p.item ? { itemId: p.item.id } : {}),
        ...(option.needsReason ? { reason: 'benchmark: recommended choice' } : {}),
      });
      seen = lastSeq(out, seen);
    } else if (s.status === 'waiting_approval' && s.pendingApproval) {
      const p = s.pendingApproval;
      seen = lastSeq(
        await service.approve(run.runId, { stepId: p.stepId, actor: APPROVER, fingerprint: p.fingerprint }),
        seen,
      );
    } else if (s.status === 'waiting_manual' && s.pendingManual) {
      await doManual(s.pendingManual.stepId);
      seen = lastSeq(await service.manualDone(run.runId, { stepId: s.pendingManual.stepId, actor: STARTER }), seen);
    } else {
      throw new Error(`run ${run.runId} is ${s.status}: ${s.pause?.reason ?? ''}`);
    }
  }
  throw new Error(`run ${run.runId} needed too many rounds`);
}

/** Starts a run as the starter and follows it from its first event. */
export async function startFollowed(
  service: RunService,
  scenario: string,
  extra: { tenantId?: string; traceId?: string } = {},
): Promise<{ run: RunFollower; stop: () => Promise<void> }> {
  const started = await service.start({
    scenario,
    actor: STARTER,
    ...(extra.tenantId !== undefined ? { tenantId: extra.tenantId } : {}),
    ...(extra.traceId !== undefined ? { params: { traceId: extra.traceId } } : {}),
  });
  if (!started.ok) throw new Error(`start refused: ${started.code} ${started.message}`);
  const run = new RunFollower(started.runId);
  const stop = await service.subscribe(started.runId, (e) => run.push(e), { fromSeq: 1 });
  return { run, stop };
}

/** Waits the run log imposes on purpose (poll intervals, retry backoffs), summed from its events, ms. */
export function imposedWaitMs(events: readonly RunEvent[]): number {
  let total = 0;
  for (const e of events) {
    if (e.type === 'step_waiting') total += Math.max(0, Date.parse(e.nextCheckAt) - Date.parse(e.at));
    if (e.type === 'step_failed' && e.retryAt) total += Math.max(0, Date.parse(e.retryAt) - Date.parse(e.at));
  }
  return total;
}

export interface ExecutionCheck {
  /** step_started events. */
  readonly started: number;
  /** (step, attempt) pairs whose start has no outcome, or more than one. */
  readonly problems: string[];
}

/**
 * Every step_started must have exactly one outcome (step_passed or step_failed of the same attempt), no attempt
 * may start twice, and no poll may be recorded twice: anything else means an executor ran more often than the
 * run asked.
 */
export function checkExecutions(events: readonly RunEvent[]): ExecutionCheck {
  const starts = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const polls = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'step_started')
      starts.set(`${e.stepId}#${e.attempt}`, (starts.get(`${e.stepId}#${e.attempt}`) ?? 0) + 1);
    if ((e.type === 'step_passed' || e.type === 'step_failed') && e.attempt > 0) {
      const key = `${e.stepId}#${e.attempt}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    if (e.type === 'step_waiting') {
      const key = `${e.stepId}#${e.attempt}#${e.poll}`;
      polls.set(key, (polls.get(key) ?? 0) + 1);
    }
  }
  const problems: string[] = [];
  for (const [key, n] of starts) {
    if (n !== 1) problems.push(`${key} started ${n} times`);
    const o = outcomes.get(key) ?? 0;
    if (o !== 1) problems.push(`${key} has ${o} outcomes`);
  }
  for (const [key, n] of outcomes) if (!starts.has(key)) problems.push(`${key} has ${n} outcomes and no start`);
  for (const [key, n] of polls) if (n !== 1) problems.push(`poll ${key} recorded ${n} times`);
  return { started: [...starts.values()].reduce((a, b) => a + b, 0), problems };
}
