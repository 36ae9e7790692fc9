import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Prompter } from '../../../src/cli/prompter.js';
import { recover } from '../../../src/cli/recover.js';
import { createAutoResponder, createInteractiveResponder } from '../../../src/cli/responder.js';
import { switchedRunId } from '../../../src/jobs/run-driver.js';
import type { CommandOutcome, RunActor, RunService } from '../../../src/jobs/run-service-port.js';
import { createStyle } from '../../../src/projections/terminal/style.js';
import { foldRun, type RunEvent } from '../../../src/runbook/index.js';

// The terminal's loop against a scripted run service: what it sends for each question, and how it ends.

const style = createStyle(false);
const alice: RunActor = { id: 'alice', name: 'alice', via: 'cli' };
// biome-ignore lint/suspicious/noExplicitAny: scripted event bodies; the fold validates their order
type Body = any;

type Call = { method: string; runId: string; input: Record<string, unknown> };

/** A run service whose runs follow a script: each command appends what the script says. */
class ScriptedService implements RunService {
  readonly calls: Call[] = [];
  readonly logs = new Map<string, RunEvent[]>();
  private readonly listeners = new Map<string, Set<(e: RunEvent) => void>>();
  private clock = Date.parse('2026-03-07T12:00:00Z');

  constructor(
    private readonly script: {
      start?: (service: ScriptedService) => ReturnType<RunService['start']> | Awaited<ReturnType<RunService['start']>>;
      on?: (call: Call, service: ScriptedService) => CommandOutcome;
    },
  ) {}

  append(runId: string, bodies: Body[]): RunEvent[] {
    const log = this.logs.get(runId) ?? [];
    const events = bodies.map((b, i) => {
      this.clock += 1000;
      return { runId, seq: log.length + i + 1, at: new Date(this.clock).toISOString(), ...b } as RunEvent;
    });
    log.push(...events);
    this.logs.set(runId, log);
    foldRun(log);
    for (const e of events) for (const l of this.listeners.get(runId) ?? []) l(e);
    return events;
  }

  private command(method: string, runId: string, input: Record<string, unknown>): Promise<CommandOutcome> {
    const call = { method, runId, input };
    this.calls.push(call);
    return Promise.resolve(this.script.on?.(call, this) ?? { ok: false, code: 'unexpected', message: method });
  }

  async start() {
    return (await this.script.start?.(this)) ?? { ok: false as const, code: 'unavailable', message: 'no script' };
  }
  decide(runId: string, input: object) {
    return this.command('decide', runId, { ...input });
  }
  approve(runId: string, input: object) {
    return this.command('approve', runId, { ...input });
  }
  reject(runId: string, input: object) {
    return this.command('reject', runId, { ...input });
  }
  manualDone(runId: string, input: object) {
    return this.command('manualDone', runId, { ...input });
  }
  retry(runId: string, input: object) {
    return this.command('retry', runId, { ...input });
  }
  skip(runId: string, input: object) {
    return this.command('skip', runId, { ...input });
  }
  abort(runId: string, input: object) {
    return this.command('abort', runId, { ...input });
  }
  async get(runId: string) {
    const events = this.logs.get(runId);
    return events && events.length > 0 ? { events: [...events], state: foldRun(events) } : null;
  }
  async listActive() {
    return [];
  }
  async subscribe(runId: string, onEvent: (e: RunEvent) => void) {
    const set = this.listeners.get(runId) ?? new Set();
    set.add(onEvent);
    this.listeners.set(runId, set);
    return async () => {
      set.delete(onEvent);
    };
  }
}

const started = (scenario = 'restart', extra: object = {}): Body => ({
  type: 'run_started',
  scenario,
  scenarioVersion: 1,
  tenantId: 'default',
  startedBy: alice,
  params: { traceId: 'trace-0001', ...extra },
});
const decisionAsked = (options: Body[]): Body => ({
  type: 'decision_requested',
  stepId: 'catch_up_decision',
  prompt: 'Projections are behind and not moving.',
  options,
  evidence: [],
});
const finished = (outcome: string, extra: object = {}): Body => ({ type: 'run_finished', outcome, ...extra });
const CATCH_UP = { id: 'catch_up', label: 'Request a catch_up replay', recommended: true, effect: 'continue' };
const WAIT = { id: 'wait', label: 'Wait for writes', needsReason: true, effect: 'continue' };

function scriptedPrompter(answers: string[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async ask(question) {
      asked.push(question);
      return answers.shift() ?? null;
    },
    close() {},
  };
}

let dir: string;
let lines: string[];
const print = (line: string) => lines.push(line);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-recover-unit-'));
  lines = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = { request: { scenario: 'restart', params: {} }, starter: alice, style, print, resyncMs: 50 };

describe('following a run at the terminal', () => {
  /** A run that asks one decision, then one approval of a destructive step, and recovers once approved. */
  const decisionThenApproval = () =>
    new ScriptedService({
      start: (s) => {
        s.append('run-a1', [started(), decisionAsked([WAIT, CATCH_UP])]);
        return { ok: true, runId: 'run-a1' };
      },
      on: (call, s) => {
        if (call.method === 'decide') {
          return {
            ok: true,
            events: s.append('run-a1', [
              { type: 'decision_made', stepId: 'catch_up_decision', optionId: 'catch_up', by: alice, reason: 'auto' },
              {
                type: 'approval_requested',
                stepId: 'approve_x',
                round: 1,
                guards: 'x',
                prompt: 'Approve?',
                approvers: null,
                excluded: ['alice'],
                fingerprint: 'fp-9',
                evidence: [],
              },
            ]),
          };
        }
        if (call.method === 'approve') {
          const by = call.input.actor as RunActor;
          return {
            ok: true,
            events: s.append('run-a1', [
              { type: 'approval_granted', stepId: 'approve_x', round: 1, by, fingerprint: 'fp-9' },
              finished('recovered'),
            ]),
          };
        }
        return { ok: false, code: 'unexpected', message: call.method };
      },
    });

  it('--auto takes the recommended option with a reason, asks the person at the prompt to approve, and exits 0', async () => {
    const service = decisionThenApproval();
    const prompter = scriptedPrompter(['bob']);
    const responder = createAutoResponder({ approvals: createInteractiveResponder({ prompter, style, print }), print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 0, end: 'recovered', runIds: ['run-a1'] });
    expect(service.calls.map((c) => c.method)).toEqual(['decide', 'approve']);
    expect(service.calls[0]?.input).toMatchObject({
      stepId: 'catch_up_decision',
      optionId: 'catch_up',
      reason: 'auto: recommended option',
      actor: alice,
    });
    // The decision was not asked; the approval was, and the approver is the person who typed their name.
    expect(prompter.asked).toEqual(["  Approver's name (a different person from alice; Enter to decline): "]);
    expect(service.calls[1]?.input).toMatchObject({
      stepId: 'approve_x',
      fingerprint: 'fp-9',
      actor: { id: 'bob', via: 'cli' },
    });
    expect((await readdir(dir)).sort()).toEqual(['dg-recovery-run-a1.json', 'dg-recovery-run-a1.md']);
    expect(lines.join('\n')).toContain('■ Run finished: RECOVERED');
    expect(lines.join('\n')).toContain('# Postmortem draft');
  });

  it('--auto with nobody at the terminal never approves: the run is left waiting, with why, and exits 1', async () => {
    const service = decisionThenApproval();
    const result = await recover({ ...base, service, responder: createAutoResponder({ print }), summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 1, end: 'left', runIds: ['run-a1'] });
    expect(service.calls.map((c) => c.method)).toEqual(['decide']);
    const out = lines.join('\n');
    expect(out).toContain('--auto never approves: approve_x needs the approval of a person');
    expect(out).toContain('Left run run-a1 (waiting_approval at approve_x); it stays recorded and active.');
    expect(out).toContain('dg-recovery abort run-a1 <reason>');
    expect(await readdir(dir)).toEqual([]);
  });

  it('asks again at the prompt when the service refuses an answer, showing why', async () => {
    const prompter = scriptedPrompter(['', '2', 'writers resume at 13:00']);
    const service = new ScriptedService({
      start: (s) => {
        s.append('run-i1', [started(), decisionAsked([CATCH_UP, WAIT])]);
        return { ok: true, runId: 'run-i1' };
      },
      on: (call, s) => {
        if (call.method !== 'decide') return { ok: false, code: 'unexpected', message: call.method };
        if (call.input.optionId === 'catch_up') {
          return { ok: false, code: 'busy', message: 'run run-i1 kept changing; try again' };
        }
        return {
          ok: true,
          events: s.append('run-i1', [
            { type: 'decision_made', stepId: 'catch_up_decision', optionId: 'wait', by: alice, reason: 'r' },
            finished('failed', { reason: 'gave up' }),
          ]),
        };
      },
    });
    const responder = createInteractiveResponder({ prompter, style, print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 1, end: 'failed' });
    expect(prompter.asked).toEqual(['  Choose 1-2, Enter for 1: ', '  Choose 1-2, Enter for 1: ', '  Reason: ']);
    expect(lines).toContain('  refused: run run-i1 kept changing; try again');
    expect(service.calls.map((c) => c.input.optionId)).toEqual(['catch_up', 'wait']);
    expect(service.calls.at(-1)?.input).toMatchObject({ optionId: 'wait', reason: 'writers resume at 13:00' });
  });

  it('asks for the second person once a skip of a safety check was asked, and sends their skip', async () => {
    const prompter = scriptedPrompter(['s', 'known gap, handed over', 's', 'bob', 'checked with the DG team']);
    const service = new ScriptedService({
      start: (s) => {
        s.append('run-k1', [
          started(),
          { type: 'run_paused', stepId: 'gate', reason: 'checklist not met', options: ['retry', 'skip', 'abort'] },
        ]);
        return { ok: true, runId: 'run-k1' };
      },
      on: (call, s) => {
        const by = call.input.actor as RunActor;
        const reason = String(call.input.reason);
        if (by.id === alice.id) {
          return { ok: true, events: s.append('run-k1', [{ type: 'skip_requested', stepId: 'gate', by, reason }]) };
        }
        return {
          ok: true,
          events: s.append('run-k1', [
            { type: 'run_resumed', by, action: 'skip', stepId: 'gate', reason },
            { type: 'step_skipped', stepId: 'gate', by: alice, reason: 'r', cause: 'operator', confirmedBy: by },
            finished('failed', { reason: 'the recovery checklist did not pass' }),
          ]),
        };
      },
    });
    const responder = createInteractiveResponder({ prompter, style, print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 1, end: 'failed' });
    expect(service.calls.map((c) => [c.method, (c.input.actor as RunActor).id, c.input.reason])).toEqual([
      ['skip', 'alice', 'known gap, handed over'],
      ['skip', 'bob', 'checked with the DG team'],
    ]);
    expect(prompter.asked[3]).toContain('Skipping a safety check needs a second person to confirm');
    expect(lines.some((l) => l.includes('alice asks to skip'))).toBe(true);
    expect(lines.some((l) => l.includes('bob confirmed the skip on'))).toBe(true);
  });

  it('--auto aborts, with the reason in the record, when no option is recommended', async () => {
    const service = new ScriptedService({
      start: (s) => {
        s.append('run-n1', [started(), decisionAsked([{ ...CATCH_UP, recommended: false }, WAIT])]);
        return { ok: true, runId: 'run-n1' };
      },
      on: (call, s) =>
        call.method === 'abort'
          ? {
              ok: true,
              events: s.append('run-n1', [
                { type: 'run_aborted', by: alice, reason: call.input.reason },
                finished('aborted', { reason: call.input.reason }),
              ]),
            }
          : { ok: false, code: 'unexpected', message: call.method },
    });
    const result = await recover({ ...base, service, responder: createAutoResponder(), summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 1, end: 'aborted' });
    expect(String(service.calls[0]?.input.reason)).toContain('a person must decide');
  });

  it('follows a run that switches scenario into the run it continues in', async () => {
    const next = switchedRunId('run-s1');
    const service = new ScriptedService({
      start: (s) => {
        s.append('run-s1', [started(), finished('switched', { switchTo: 'postgres' })]);
        setTimeout(() => s.append(next, [started('postgres', { switchedFrom: 'run-s1' }), finished('recovered')]), 20);
        return { ok: true, runId: 'run-s1' };
      },
    });
    const result = await recover({ ...base, service, responder: createAutoResponder(), summaryDir: dir });
    expect(result).toMatchObject({ exitCode: 0, end: 'recovered', runIds: ['run-s1', next] });
    expect((await readdir(dir)).sort()).toEqual(
      [`dg-recovery-${next}.json`, `dg-recovery-${next}.md`, 'dg-recovery-run-s1.json', 'dg-recovery-run-s1.md'].sort(),
    );
    expect(lines.join('\n')).toContain(`Run run-s1 hands over to the postgres scenario as run ${next}.`);
  });

  it('exits 2 for a start refused for what was typed, 1 for a run already active (and names it)', async () => {
    const bad = new ScriptedService({
      start: () => ({ ok: false, code: 'invalid_param', message: 'traceId "x y" is not valid' }),
    });
    expect(await recover({ ...base, service: bad, responder: createAutoResponder() })).toMatchObject({ exitCode: 2 });
    const busy = new ScriptedService({
      start: () => ({
        ok: false,
        code: 'run_active',
        message: 'a run is already active: run-zz',
        activeRunId: 'run-zz',
      }),
    });
    expect(await recover({ ...base, service: busy, responder: createAutoResponder() })).toMatchObject({ exitCode: 1 });
    expect(lines.join('\n')).toContain('dg-recovery abort run-zz <reason>');
  });
});
