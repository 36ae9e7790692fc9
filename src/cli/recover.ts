import { switchedRunId } from '../jobs/run-driver.js';
import type { CommandOutcome, RunActor, RunService } from '../jobs/run-service-port.js';
import { renderEvent } from '../projections/terminal/render.js';
import type { Style } from '../projections/terminal/style.js';
import { summaryMarkdown, writeSummaryFile } from '../projections/terminal/summary-file.js';
import { findScenario, type RunEvent, type RunOutcome, type RunState, reduce } from '../runbook/index.js';
import { waitingOutOutages } from './redis-outage.js';
import type { RedisWatch } from './redis-watch.js';
import { isStop, type Responder, type Stop } from './responder.js';
import { RunFollower } from './run-follower.js';

export interface RecoverRequest {
  readonly scenario: string;
  readonly tenantId?: string;
  readonly params: { traceId?: string; workflowId?: string; previousRelease?: string; upgradedAt?: string };
}

/** How a run is followed at the terminal, whether this terminal started it or resumes it. */
export interface FollowOptions {
  readonly service: RunService;
  /** Who answers the run's decisions (and started it, for `recover`). */
  readonly starter: RunActor;
  readonly responder: Responder;
  readonly style: Style;
  /** Writes one line to the terminal. */
  readonly print: (line: string) => void;
  /** Where `dg-recovery-<run>.md` goes. @defaultValue the current directory */
  readonly summaryDir?: string;
  /** Print the whole summary at the end; `false` prints only the file's path. @defaultValue true */
  readonly printSummary?: boolean;
  /** Ends following (Ctrl-C): the run goes on without this terminal. */
  readonly signal?: AbortSignal;
  /** How long to wait for the run a `switched` run continues in. @defaultValue 30000 */
  readonly switchTimeoutMs?: number;
  /** How often a quiet subscription is checked against the log. @defaultValue 2000 */
  readonly resyncMs?: number;
  /**
   * Whether Redis answers: while it does not, following and commands wait for it instead of failing.
   * @defaultValue none: a Redis error ends following
   */
  readonly redis?: RedisWatch;
}

export interface RecoverOptions extends FollowOptions {
  readonly request: RecoverRequest;
  /** Runs once the run is started, before it is followed (the terminal starts its step workers here). */
  readonly onStarted?: () => Promise<void>;
}

export type RecoverEnd = RunOutcome | 'refused' | 'left';

export interface RecoverResult {
  /** 0 recovered; 1 failed, aborted, refused or left running; 2 a start refused for bad input. */
  readonly exitCode: 0 | 1 | 2;
  readonly end: RecoverEnd;
  /** The runs followed, the first one first (more than one when a decision switched scenarios). */
  readonly runIds: readonly string[];
  /** The summary files written, one per finished run. */
  readonly summaryFiles: readonly string[];
  /** The last run's summary, as printed. */
  readonly summary?: string;
}

/** A person named at the prompt (an approver, a second person), as the terminal sends them. */
function cliActor(name: string): RunActor {
  return { id: name, name, via: 'cli' };
}

/** Start refusals that come from what was typed, like a usage error. */
const INPUT_REFUSALS = new Set(['unknown_scenario', 'invalid_param', 'missing_param', 'invalid_run_id']);
/** Refusals that mean the run moved on while the person answered: ask nothing more about that question. */
const MOVED_ON = new Set(['not_pending', 'already_decided', 'run_finished', 'not_paused', 'stale_fingerprint']);

type FollowEnd =
  | { readonly kind: 'finished'; readonly state: RunState; readonly events: RunEvent[] }
  | { readonly kind: 'left'; readonly state: RunState | undefined };

/**
 * Starts a run and follows it to its end at the terminal: every event as lines, every question to the responder,
 * every answer to the run service. A run that switches scenarios is followed into the run it continues in. Ends
 * with the incident summary printed and written to a file.
 */
export async function recover(o: RecoverOptions): Promise<RecoverResult> {
  const { service, print, style } = o;
  const started = await service.start({
    scenario: o.request.scenario,
    ...(o.request.tenantId !== undefined ? { tenantId: o.request.tenantId } : {}),
    params: o.request.params,
    actor: o.starter,
  });
  if (!started.ok) {
    print(style.red(`Not started: ${started.message}`));
    if (started.activeRunId) {
      const id = started.activeRunId;
      print(
        `Resume it here with \`dg-recovery resume ${id}\`, see it with \`dg-recovery status ${id}\`, or stop it ` +
          `with \`dg-recovery abort ${id} <reason>\`.`,
      );
    }
    return { exitCode: INPUT_REFUSALS.has(started.code) ? 2 : 1, end: 'refused', runIds: [], summaryFiles: [] };
  }
  await o.onStarted?.();
  return followToEnd(o, started.runId);
}

/**
 * Follows a run that is already under way to its end, as {@link recover} follows the one it starts: its history
 * first, then live, answering what it waits for.
 */
export function resume(o: FollowOptions, runId: string): Promise<RecoverResult> {
  return followToEnd(o, runId);
}

async function followToEnd(o: FollowOptions, firstRunId: string): Promise<RecoverResult> {
  const { print, style } = o;
  const runIds: string[] = [];
  const summaryFiles: string[] = [];
  let runId = firstRunId;
  let summary: string | undefined;
  for (;;) {
    runIds.push(runId);
    const end = await follow(o, runId, runIds.length > 1 ? (o.switchTimeoutMs ?? 30_000) : undefined);
    if (end.kind === 'left') {
      const where = end.state
        ? ` (${end.state.status}${end.state.currentStepId ? ` at ${end.state.currentStepId}` : ''})`
        : '';
      print('');
      print(style.yellow(`Left run ${runId}${where}; it stays recorded and active.`));
      print(`See it with \`dg-recovery status ${runId}\`; stop it with \`dg-recovery abort ${runId} <reason>\`.`);
      return { exitCode: 1, end: 'left', runIds, summaryFiles };
    }
    summary = summaryMarkdown(end.events);
    const path = await writeSummaryFile(runId, end.events, o.summaryDir);
    summaryFiles.push(path);
    const outcome = end.state.outcome?.outcome ?? 'failed';
    if (outcome === 'switched') {
      const next = switchedRunId(runId);
      print('');
      print(
        style.cyan(`Run ${runId} hands over to the ${end.state.outcome?.switchTo ?? 'next'} scenario as run ${next}.`),
      );
      print(style.dim(`Summary of ${runId} written to ${path}`));
      print('');
      runId = next;
      continue;
    }
    if (o.printSummary !== false) {
      print('');
      print(summary.trimEnd());
    }
    print('');
    print(style.dim(`Summary written to ${path}`));
    return { exitCode: outcome === 'recovered' ? 0 : 1, end: outcome, runIds, summaryFiles, summary };
  }
}

async function follow(o: FollowOptions, runId: string, firstEventTimeoutMs: number | undefined): Promise<FollowEnd> {
  const { print, style, responder } = o;
  const service = o.redis ? waitingOutOutages(o.service, o.redis, o.signal) : o.service;
  const follower = new RunFollower(service, runId, o.resyncMs, o.redis && (() => o.redis?.reportDown()));
  const onAbort = () => void follower.close();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const handled = new Set<string>();
  const events: RunEvent[] = [];
  let state: RunState | undefined;
  try {
    if (o.signal?.aborted) return { kind: 'left', state };
    await follower.start();
    for (;;) {
      const event = await follower.next(state === undefined ? firstEventTimeoutMs : undefined);
      if (event === undefined) {
        if (state === undefined && !o.signal?.aborted) {
          print(style.red(`Run ${runId} did not start (another run may hold its slot); see \`dg-recovery status\`.`));
        }
        return { kind: 'left', state };
      }
      const scenario = findScenario(state?.scenario ?? (event.type === 'run_started' ? event.scenario : ''));
      for (const line of renderEvent(event, {
        style,
        ...(scenario ? { scenario } : {}),
        ...(state ? { before: state } : {}),
      })) {
        print(line);
      }
      state = reduce(state, event);
      events.push(event);
      if (state.outcome !== null) return { kind: 'finished', state, events };
      if (follower.hasNext()) continue;
      const stop = await answer(state);
      if (stop) return { kind: 'left', state };
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await follower.close();
  }

  /** Asks whatever the run waits for; `true` when the person left. */
  async function answer(s: RunState): Promise<boolean> {
    const send = async (key: string, ask: (refusal?: string) => Promise<CommandOutcome | Stop>) => {
      if (handled.has(key)) return false;
      let refusal: string | undefined;
      for (;;) {
        const outcome = await ask(refusal);
        if (isStop(outcome)) {
          if (outcome.stop === 'leave') return true;
          handled.add(key);
          const aborted = await service.abort(runId, { actor: o.starter, reason: outcome.reason });
          if (aborted.ok) follower.offer(aborted.events);
          else print(style.red(`  could not abort: ${aborted.message}`));
          return !aborted.ok;
        }
        if (outcome.ok) {
          handled.add(key);
          follower.offer(outcome.events);
          return false;
        }
        if (MOVED_ON.has(outcome.code)) {
          handled.add(key);
          print(style.yellow(`  ${outcome.message}`));
          return false;
        }
        refusal = outcome.message;
      }
    };

    const decision = s.pendingDecision;
    if (decision !== null) {
      return send(`d:${decision.stepId}:${decision.item?.id ?? ''}:${decision.requestedAt}`, async (refusal) => {
        const a = await responder.decide(decision, s, refusal);
        if (isStop(a)) return a;
        return service.decide(runId, {
          stepId: decision.stepId,
          ...(decision.item ? { itemId: decision.item.id } : {}),
          optionId: a.optionId,
          ...(a.reason !== undefined ? { reason: a.reason } : {}),
          ...(a.value !== undefined ? { value: a.value } : {}),
          actor: a.by !== undefined ? cliActor(a.by) : o.starter,
        });
      });
    }
    const approval = s.pendingApproval;
    if (approval !== null && approval.grantedBy === null) {
      return send(`a:${approval.stepId}:${approval.round}`, async (refusal) => {
        const a = await responder.approve(approval, s, refusal);
        if (isStop(a)) return a;
        return service.approve(runId, {
          stepId: approval.stepId,
          fingerprint: approval.fingerprint,
          actor: cliActor(a.approver),
        });
      });
    }
    const manual = s.pendingManual;
    if (manual !== null) {
      return send(`m:${manual.stepId}:${manual.attempt}`, async (refusal) => {
        const a = await responder.manual(manual, s, refusal);
        if (isStop(a)) return a;
        return service.manualDone(runId, {
          stepId: manual.stepId,
          actor: o.starter,
          ...(a.note !== undefined ? { note: a.note } : {}),
        });
      });
    }
    const pause = s.pause;
    if (pause !== null) {
      // A skip request keeps the run paused: the second person is asked next.
      return send(`p:${pause.at}:${s.skipRequest?.seq ?? ''}`, async (refusal) => {
        const a = await responder.paused(s, refusal);
        if ('stop' in a) return a;
        if (a.action === 'retry')
          return service.retry(runId, { actor: a.by !== undefined ? cliActor(a.by) : o.starter });
        if (a.action === 'skip') {
          return service.skip(runId, { actor: a.by !== undefined ? cliActor(a.by) : o.starter, reason: a.reason });
        }
        return { stop: 'abort', reason: a.reason };
      });
    }
    return false;
  }
}
