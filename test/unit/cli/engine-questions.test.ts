import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Prompter } from '../../../src/cli/prompter.js';
import { recover } from '../../../src/cli/recover.js';
import { createAutoResponder, createInteractiveResponder } from '../../../src/cli/responder.js';
import { createStyle } from '../../../src/projections/terminal/style.js';
import { World } from '../../helpers/engine-world.js';
import { ALICE, EngineService } from './engine-service.js';

// The questions the engine puts to people after a mishap, at the terminal: whether an action the bot was running
// when it stopped had finished, and what is left when nobody approved in time. Events and refusals come from the
// real engine.

const style = createStyle(false);

/** Answers in order; a function runs when its question is asked (something happens while a person types). */
function scriptedPrompter(answers: (string | (() => string))[]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async ask(question) {
      asked.push(question);
      const next = answers.shift();
      return typeof next === 'function' ? next() : (next ?? null);
    },
    close() {},
  };
}

let dir: string;
let lines: string[];
const print = (line: string) => lines.push(line);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dg-cli-questions-'));
  lines = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An event-log run whose worker dies inside "Stop writes", configured as a command on the host. */
function interruptedStopWrites(): EngineService {
  const world = new World();
  world.integrity = { payload_hash_drift: 2 };
  return new EngineService({
    world,
    scenario: 'event-log',
    modes: { stop_writes: 'command', preserve_database: 'command', restore_backup: 'command' },
    dieIn: 'stop_writes',
  });
}

const base = {
  request: { scenario: 'event-log', params: {} },
  starter: ALICE,
  style,
  print,
  resyncMs: 50,
} as const;

describe('an action interrupted when the bot stopped, at the terminal', () => {
  it('asks whether it finished with what to check and no recommendation, and sends the answer with its item id', async () => {
    const service = interruptedStopWrites();
    // bob approves stopping writes; Enter alone is no answer here; then "it finished", with what was checked.
    const prompter = scriptedPrompter(['bob', '', '1', 'the load balancer serves the maintenance page']);
    const responder = createInteractiveResponder({ prompter, style, print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });

    const out = lines.join('\n');
    expect(out).toMatch(/⚠ Stop writes \(stop_writes\): attempt 1 of "stop_writes" started at \S+ and never finished/);
    expect(out).toMatch(
      /The bot stopped while running Stop writes \(stop_writes, attempt 1, started \S+\); it is unknown/,
    );
    expect(out).toContain('? Interrupted: Stop writes (stop_writes), attempt 1: did it finish?');
    expect(out).toContain(
      'What to check: whether every writer is stopped: the integrations and clients that append events are paused',
    );
    expect(out).toContain('Nothing is recommended: only someone who looked can tell.');
    expect(out).toMatch(/1\) It finished: mark it done — reason required\n\s+Say what you checked/);
    expect(out).toContain('2) Run it again');
    expect(out).toContain('3) Abort the run');
    expect(out).not.toContain('recommended\n');
    // No default to take with Enter: the person must type a number.
    expect(prompter.asked.slice(1, 4)).toEqual(['  Choose 1-3: ', '  Choose 1-3: ', '  What did you check: ']);
    expect(out).toContain('type a number from 1 to 3');

    const decide = service.calls.find((c) => c.method === 'decide');
    expect(decide?.input).toEqual({
      stepId: 'stop_writes',
      itemId: 'a1',
      optionId: 'done',
      reason: 'the load balancer serves the maintenance page',
      actor: ALICE,
    });
    expect(out).toContain('alice chose "It finished: mark it done": the load balancer serves the maintenance page');
    expect(out).toContain('Stop writes (stop_writes) passed (reported finished by a person, not measured)');
    // The run went on to the next approval without stopping writes a second time; nobody answered it.
    expect(service.drive.world.hostCalls.stop_writes).toBe(1);
    expect(service.drive.state.steps.stop_writes).toMatchObject({ status: 'passed', attempt: 1 });
    expect(result).toMatchObject({ end: 'left', exitCode: 1 });
    expect(service.drive.state.pendingApproval?.stepId).toBe('approve_preserve');
  });

  it('runs a destructive action again only as a second person, whose name it asks, and shows a refusal', async () => {
    const service = interruptedStopWrites();
    const prompter = scriptedPrompter(['bob', '2', 'alice', '2', 'bob']);
    const responder = createInteractiveResponder({ prompter, style, print });
    await recover({ ...base, service, responder, summaryDir: dir });

    const name =
      "  Running it again repeats a destructive action: approver's name (not alice; Enter to choose again): ";
    expect(prompter.asked.slice(1, 5)).toEqual(['  Choose 1-3: ', name, '  Choose 1-3: ', name]);
    expect(lines).toContain('  refused: running it again Stop writes needs a second person (two-person rule)');
    const decisions = service.calls.filter((c) => c.method === 'decide').map((c) => c.input);
    expect(decisions).toMatchObject([
      { stepId: 'stop_writes', itemId: 'a1', optionId: 'run_again', actor: { id: 'alice', via: 'cli' } },
      { stepId: 'stop_writes', itemId: 'a1', optionId: 'run_again', actor: { id: 'bob', name: 'bob', via: 'cli' } },
    ]);
    expect(lines.join('\n')).toContain('bob chose "Run it again"');
    expect(service.drive.world.hostCalls.stop_writes).toBe(2);
    expect(service.drive.state.steps.stop_writes).toMatchObject({ status: 'passed', attempt: 2 });
  });

  it('takes the approver named with --approver when running it again', async () => {
    const service = interruptedStopWrites();
    const prompter = scriptedPrompter(['y', '2']);
    const responder = createInteractiveResponder({ prompter, style, print, approver: 'carol' });
    await recover({ ...base, service, responder, summaryDir: dir });
    expect(service.calls.filter((c) => c.method === 'decide').map((c) => c.input)).toMatchObject([
      { optionId: 'run_again', actor: { id: 'carol', via: 'cli' } },
    ]);
    expect(service.drive.world.hostCalls.stop_writes).toBe(2);
  });

  it('--auto never answers it: the run stops, saying a person must look, and nothing runs twice', async () => {
    const service = interruptedStopWrites();
    const prompter = scriptedPrompter(['bob']);
    const responder = createAutoResponder({ approvals: createInteractiveResponder({ prompter, style, print }), print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });

    expect(result).toMatchObject({ end: 'aborted', exitCode: 1 });
    expect(service.calls.map((c) => c.method)).toEqual(['approve', 'abort']);
    const reason =
      'auto: the bot stopped while running stop_writes (attempt 1) and cannot tell whether it finished; a person ' +
      'must look before the run goes on';
    expect(service.calls[1]?.input).toMatchObject({ actor: ALICE, reason });
    expect(service.drive.state.decisions).toEqual([]);
    expect(service.drive.world.hostCalls.stop_writes).toBe(1);
    // Only the approval was asked at the prompt; the interruption question never was.
    expect(prompter.asked).toHaveLength(1);
    expect(lines.join('\n')).toContain(`■ aborted by alice: ${reason}`);
    expect(result.summary).toContain('Stop writes');
  });
});

describe('an approval nobody gave in time, at the terminal', () => {
  function expiring(expire: string[] = []): EngineService {
    const world = new World();
    world.integrity = { payload_hash_drift: 2 };
    return new EngineService({ world, scenario: 'event-log', expire });
  }

  it('shows it expired; the pause offers only Retry and Abort, and Retry asks for the approval again', async () => {
    const service = expiring(['approve_stop_writes']);
    const prompter = scriptedPrompter(['s', 'r', 'bob']);
    const responder = createInteractiveResponder({ prompter, style, print });
    await recover({ ...base, service, responder, summaryDir: dir });

    const out = lines.join('\n');
    expect(out).toContain(
      '⚠ approval of Approve stopping writes (approve_stop_writes) expired: nobody approved within 1 h',
    );
    expect(out).toContain(
      '⏸ Run paused: approval timed out after 1 h; nobody approved (anyone but alice could have). Stop writes has ' +
        'not run. Retry asks for the approval again; Abort ends the run.',
    );
    expect(out).toContain('You can: retry, abort');
    expect(prompter.asked.slice(0, 2)).toEqual([
      '  r) retry  a) abort; Enter to leave it paused: ',
      '  r) retry  a) abort; Enter to leave it paused: ',
    ]);
    // Skip is not offered: typing it is no answer.
    expect(lines).toContain('  type one of: retry, abort');
    expect(service.calls.map((c) => c.method).slice(0, 2)).toEqual(['retry', 'approve']);
    expect(out).toContain('Approval needed: Approve stopping writes (approve_stop_writes) (round 2)');
    expect(service.drive.state.approvals.filter((a) => a.stepId === 'approve_stop_writes')).toMatchObject([
      { round: 2, by: { id: 'bob', via: 'cli' }, voided: null },
    ]);
  });

  it('a name typed after the approval expired is not taken: the pause is asked instead', async () => {
    const service = expiring();
    const prompter = scriptedPrompter([
      () => {
        service.expireOpenApproval();
        return 'bob';
      },
      'a',
      'nobody reachable to approve',
    ]);
    const responder = createInteractiveResponder({ prompter, style, print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });

    expect(service.calls.map((c) => c.method)).toEqual(['approve', 'abort']);
    expect(lines).toContain('  no approval is waiting on approve_stop_writes');
    expect(lines.join('\n')).toContain('expired: nobody approved within 1 h');
    expect(prompter.asked[1]).toBe('  r) retry  a) abort; Enter to leave it paused: ');
    expect(result).toMatchObject({ end: 'aborted' });
    expect(result.summary).toContain('nobody approved within 1 h');
  });
});

describe('a destructive step that failed, at the terminal', () => {
  function failingStopWrites(): EngineService {
    const world = new World();
    world.integrity = { payload_hash_drift: 2 };
    world.hostFailures = { stop_writes: 1 };
    return new EngineService({ world, scenario: 'event-log', modes: { stop_writes: 'command' } });
  }

  it('Retry asks who repeats it, refuses the starter, and runs it again as the second person', async () => {
    const service = failingStopWrites();
    const prompter = scriptedPrompter(['bob', 'r', 'alice', 'r', 'bob']);
    const responder = createInteractiveResponder({ prompter, style, print });
    const result = await recover({ ...base, service, responder, summaryDir: dir });

    const pause = '  r) retry  s) skip  a) abort; Enter to leave it paused: ';
    const name =
      "  Running it again repeats a destructive action: approver's name (not alice; Enter to choose again): ";
    expect(prompter.asked.slice(1, 5)).toEqual([pause, name, pause, name]);
    expect(lines).toContain('  refused: retrying Stop writes needs a second person (two-person rule)');
    expect(service.calls.filter((c) => c.method === 'retry').map((c) => c.input)).toMatchObject([
      { actor: { id: 'alice' } },
      { actor: { id: 'bob', name: 'bob', via: 'cli' } },
    ]);
    expect(service.drive.world.hostCalls.stop_writes).toBe(2);
    expect(service.drive.state.steps.stop_writes).toMatchObject({ status: 'passed', attempt: 2 });
    // The run went on to the next approval; nobody answered it.
    expect(result).toMatchObject({ end: 'left' });
    expect(service.drive.state.pendingApproval?.stepId).toBe('approve_preserve');
  });

  it('takes the approver named with --approver for the retry without asking', async () => {
    const service = failingStopWrites();
    const prompter = scriptedPrompter(['y', 'r']);
    const responder = createInteractiveResponder({ prompter, style, print, approver: 'carol' });
    await recover({ ...base, service, responder, summaryDir: dir });

    expect(prompter.asked.slice(0, 2)).toEqual([
      '  Approve as carol? [y/N] ',
      '  r) retry  s) skip  a) abort; Enter to leave it paused: ',
    ]);
    expect(service.calls.filter((c) => c.method === 'retry').map((c) => c.input)).toMatchObject([
      { actor: { id: 'carol', via: 'cli' } },
    ]);
    expect(service.drive.world.hostCalls.stop_writes).toBe(2);
    expect(service.drive.state.steps.stop_writes).toMatchObject({ status: 'passed', attempt: 2 });
  });
});
