import type { CommandOutcome, DecideInput, RunActor, RunService } from '../../../src/jobs/run-service-port.js';
import {
  type AccessPolicy,
  type Actor,
  applyAbort,
  applyApproval,
  applyDecision,
  applyManualResult,
  applyRejection,
  applyRetry,
  applySkip,
  type CommandResult,
  decideNext,
  type EngineCommand,
  type ExecutorCall,
  expireApproval,
  type HostActionMode,
  type RunEvent,
  type ScenarioName,
} from '../../../src/runbook/index.js';
import { append, type Drive, QUICK, runJob, start } from '../../helpers/engine-drive.js';
import type { World } from '../../helpers/engine-world.js';

// A run service over the pure engine and the test world: the terminal gets the events the engine really writes
// and the refusals it really gives (two-person rule included), with no Redis or workers. Jobs run at once; a
// worker can be made to die inside a host action, and an approval nobody gives can be let expire.

export const ALICE: RunActor = { id: 'alice', name: 'alice', via: 'cli' };
const STARTER: Actor = { id: 'alice', name: 'alice', via: 'cli' };
/** Anyone may operate and approve; a destructive step still needs a second person. */
export const TERMINAL_ACCESS: AccessPolicy = { operators: null, approvers: null, twoPersonRule: true };

/** Thrown by the world to stand for the worker dying after the action reached the host. */
class WorkerDied extends Error {}

export interface EngineServiceOptions {
  readonly world: World;
  readonly scenario: ScenarioName;
  readonly params?: Record<string, string>;
  /** How each host action is configured, as the job layer would tell the engine. */
  readonly modes?: Readonly<Record<string, HostActionMode>>;
  /** The worker dies inside the first attempt of this step, after its call reached the host. */
  readonly dieIn?: string;
  /** Approval steps nobody approves in time (their first round expires). */
  readonly expire?: readonly string[];
}

export class EngineService implements RunService {
  readonly calls: { method: string; input: Record<string, unknown> }[] = [];
  readonly runId = 'run-cli-1';
  private d: Drive | undefined;
  private died = false;
  private readonly expired = new Set<string>();
  private readonly listeners = new Set<(e: RunEvent) => void>();

  constructor(private readonly o: EngineServiceOptions) {}

  get drive(): Drive {
    if (this.d === undefined) throw new Error('not started');
    return this.d;
  }

  async start() {
    const d = start(this.o.world, this.o.scenario, {
      crew: { starter: STARTER, approver: { id: 'bob', name: 'bob', via: 'cli' }, access: TERMINAL_ACCESS },
      pace: QUICK,
      params: this.o.params ?? { traceId: 'trace-demo' },
      runId: this.runId,
    });
    if (this.o.modes !== undefined) d.engine = { hostActionModes: this.o.modes };
    this.d = d;
    this.publish(d.events);
    this.advance();
    return { ok: true as const, runId: this.runId };
  }

  decide(_runId: string, cmd: DecideInput) {
    return this.command('decide', cmd, (d) =>
      applyDecision(
        d.state,
        d.scenario,
        {
          stepId: cmd.stepId,
          optionId: cmd.optionId,
          by: cmd.actor,
          ...(cmd.itemId !== undefined ? { itemId: cmd.itemId } : {}),
          ...(cmd.reason !== undefined ? { reason: cmd.reason } : {}),
          ...(cmd.value !== undefined ? { value: cmd.value } : {}),
        },
        TERMINAL_ACCESS,
        d.now,
      ),
    );
  }
  reject(_runId: string, cmd: Parameters<RunService['reject']>[1]) {
    return this.command('reject', cmd, (d) =>
      applyRejection(d.state, d.scenario, { stepId: cmd.stepId, by: cmd.actor }, TERMINAL_ACCESS, d.now),
    );
  }
  approve(_runId: string, cmd: Parameters<RunService['approve']>[1]) {
    return this.command('approve', cmd, (d) =>
      applyApproval(
        d.state,
        d.scenario,
        {
          stepId: cmd.stepId,
          by: cmd.actor,
          ...(cmd.fingerprint !== undefined ? { fingerprint: cmd.fingerprint } : {}),
        },
        TERMINAL_ACCESS,
        d.now,
      ),
    );
  }
  manualDone(_runId: string, cmd: Parameters<RunService['manualDone']>[1]) {
    return this.command('manualDone', cmd, (d) =>
      applyManualResult(
        d.state,
        d.scenario,
        {
          stepId: cmd.stepId,
          by: cmd.actor,
          outcome: cmd.failed ? 'failed' : 'done',
          ...(cmd.note !== undefined ? { note: cmd.note } : {}),
        },
        TERMINAL_ACCESS,
        d.now,
      ),
    );
  }
  retry(_runId: string, cmd: Parameters<RunService['retry']>[1]) {
    return this.command('retry', cmd, (d) =>
      applyRetry(d.state, d.scenario, { by: cmd.actor }, TERMINAL_ACCESS, d.now),
    );
  }
  skip(_runId: string, cmd: Parameters<RunService['skip']>[1]) {
    return this.command('skip', cmd, (d) =>
      applySkip(d.state, d.scenario, { by: cmd.actor, reason: cmd.reason }, TERMINAL_ACCESS, d.now),
    );
  }
  abort(_runId: string, cmd: Parameters<RunService['abort']>[1]) {
    return this.command('abort', cmd, (d) =>
      applyAbort(d.state, { by: cmd.actor, reason: cmd.reason }, TERMINAL_ACCESS, d.now),
    );
  }
  async get(runId: string) {
    if (this.d === undefined || runId !== this.runId) return null;
    return { events: [...this.d.events], state: this.d.state };
  }
  async listActive() {
    return [];
  }
  async subscribe(_runId: string, onEvent: (e: RunEvent) => void) {
    this.listeners.add(onEvent);
    return async () => {
      this.listeners.delete(onEvent);
    };
  }

  private async command(method: string, input: object, apply: (d: Drive) => CommandResult): Promise<CommandOutcome> {
    this.calls.push({ method, input: { ...input } });
    const d = this.drive;
    const from = d.events.length;
    const result = apply(d);
    if (!result.ok) return { ok: false, code: result.refusal.code, message: result.refusal.message };
    append(d, result.events);
    this.publish(result.events);
    this.advance();
    return { ok: true, events: d.events.slice(from) };
  }

  /** Runs the engine until it waits for a person or the run ends, as the job layer would. */
  private advance(): void {
    const d = this.drive;
    for (let i = 0; i < 500; i++) {
      const from = d.events.length;
      const out = decideNext(d.state, d.scenario, d.now, { ...d.engine, access: TERMINAL_ACCESS });
      append(d, out.events);
      const cmd = out.command;
      if (cmd.type === 'run_step' || cmd.type === 'check_again') {
        if (Date.parse(cmd.at) > d.now.getTime()) d.now = new Date(cmd.at);
        this.job(cmd);
      } else if (
        cmd.type === 'await_approval' &&
        this.o.expire?.includes(cmd.stepId) &&
        !this.expired.has(cmd.stepId)
      ) {
        this.expired.add(cmd.stepId);
        d.now = new Date(cmd.expiresAt);
        const out = expireApproval(d.state, d.scenario, d.now, d.engine, { stepId: cmd.stepId, round: cmd.round });
        if (out.kind !== 'expired') throw new Error(`approval did not expire: ${out.kind}`);
        append(d, out.events);
      } else {
        this.publish(d.events.slice(from));
        return;
      }
      this.publish(d.events.slice(from));
    }
    throw new Error('the run did not settle');
  }

  /** The open approval expires now, as the delayed expiry check would fire while someone is still typing. */
  expireOpenApproval(): void {
    const d = this.drive;
    const open = d.state.pendingApproval;
    if (open === null) throw new Error('no approval is open');
    const requestedAt = Date.parse(open.requestedAt);
    d.now = new Date(Math.max(d.now.getTime(), requestedAt + 3_600_000));
    const out = expireApproval(d.state, d.scenario, d.now, d.engine, { stepId: open.stepId, round: open.round });
    if (out.kind !== 'expired') throw new Error(`approval did not expire: ${out.kind}`);
    append(d, out.events);
    this.publish(out.events);
    this.advance();
  }

  private job(cmd: Extract<EngineCommand, { type: 'run_step' | 'check_again' }>): void {
    const d = this.drive;
    const intercept = (call: ExecutorCall, stepId: string) => {
      if (this.died || stepId !== this.o.dieIn) return undefined;
      this.died = true;
      d.world.respond(call);
      throw new WorkerDied(stepId);
    };
    try {
      runJob(d, cmd.jobId, { intercept });
    } catch (err) {
      if (!(err instanceof WorkerDied)) throw err;
      // The lock expires and the job is delivered again.
      d.now = new Date(d.now.getTime() + 30_000);
      runJob(d, cmd.jobId);
    }
  }

  private publish(events: readonly RunEvent[]): void {
    for (const e of events) for (const l of this.listeners) l(e);
  }
}
