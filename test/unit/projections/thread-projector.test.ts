import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createThreadProjector } from '../../../src/projections/thread-projector.js';
import { foldRun, getScenario, type RunEvent } from '../../../src/runbook/index.js';
import { OutboxUnavailableError } from '../../../src/slack/outbox/index.js';
import type { OutboxMessage } from '../../../src/slack/outbox/types.js';
import { fakeService } from '../handlers/fakes.js';
import { RUNS } from './summary/runs.js';

const logger = createLogger({ level: 'silent' });

function setup(events: RunEvent[], onRunFinished?: (runId: string) => void) {
  const { service, setEvents } = fakeService(events);
  let listener: ((e: RunEvent) => void) | undefined;
  service.subscribe.mockImplementation(async (_runId, onEvent) => {
    listener = onEvent;
    return async () => undefined;
  });
  const published: Array<{ runId: string; message: OutboxMessage }> = [];
  // As the outbox counts them: each key's content version, 1 for its first.
  const versions = new Map<string, number>();
  const outbox = {
    publish: vi.fn(async (runId: string, message: OutboxMessage) => {
      published.push({ runId, message });
      const version = (versions.get(`${runId}/${message.key}`) ?? 0) + 1;
      versions.set(`${runId}/${message.key}`, version);
      return { outcome: 'changed' as const, version };
    }),
  };
  const projector = createThreadProjector({
    service,
    outbox,
    scenarioFor: (name) => getScenario(name as 'restart'),
    logger,
    retryBaseMs: 5,
    ...(onRunFinished ? { onRunFinished } : {}),
  });
  return {
    service,
    setEvents,
    outbox,
    published,
    projector,
    emit: (e: RunEvent) => listener?.(e),
    /** The outbox loses every key, as when Redis restarts empty. */
    forget: () => versions.clear(),
  };
}

describe('thread projector', () => {
  const run = RUNS.restart.recovered();

  it('catches up the active runs at start-up, then follows new events', async () => {
    const first = run.events.slice(0, 5);
    const t = setup(first);
    t.service.listActive.mockResolvedValue([
      { runId: run.state.runId, scenario: 'restart', tenantId: 'default', status: 'running' },
    ]);
    await t.projector.start();
    expect(t.service.subscribe).toHaveBeenCalledWith('*', expect.any(Function));
    // The first two steps share one message: the steps before the first question.
    expect(t.published.map((p) => p.message.key)).toEqual(['header', 'step-check_healthz']);
    expect(JSON.stringify(t.published[1]?.message.blocks)).toContain('st-check_postgres');

    t.setEvents(run.events);
    for (const e of run.events.slice(5)) t.emit(e);
    await t.projector.idle();
    const keys = new Set(t.published.map((p) => p.message.key));
    expect(keys.has('result')).toBe(true);
    expect(keys.has('summary')).toBe(true);
    await t.projector.close();
  });

  it('publishes only the messages that changed since the last render', async () => {
    // Up to the first question: the steps before it are settled in their own message.
    const asked = run.events.findIndex((e) => e.type === 'decision_requested') + 1;
    const t = setup(run.events.slice(0, asked));
    await t.projector.project(run.state.runId);
    const before = t.published.length;
    await t.projector.project(run.state.runId);
    expect(t.published.length).toBe(before);
    t.setEvents(run.events.slice(0, asked + 1));
    await t.projector.project(run.state.runId);
    const changed = t.published.slice(before).map((p) => p.message.key);
    expect(changed).toContain('header');
    expect(changed).not.toContain('step-check_healthz');
  });

  it('publishes the whole thread again once the outbox has forgotten it (Redis lost)', async () => {
    const t = setup(run.events.slice(0, 5));
    await t.projector.project(run.state.runId);
    const keys = t.published.map((p) => p.message.key);
    t.forget();
    const before = t.published.length;
    t.setEvents(run.events.slice(0, 6));
    await t.projector.project(run.state.runId);
    // The header changed and came back as new: every message went again, not only the header and the new step.
    const again = t.published.slice(before).map((p) => p.message.key);
    expect(again).toEqual(expect.arrayContaining(keys));
    expect(again.filter((k) => k === 'step-check_healthz')).toHaveLength(1);
    await t.projector.project(run.state.runId);
    expect(t.published.length).toBe(before + again.length);
  });

  it('coalesces a burst of events into few renders, never two at once for one run', async () => {
    const t = setup(run.events);
    let inFlight = 0;
    let most = 0;
    t.service.get.mockImplementation(async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return { events: run.events, state: foldRun(run.events) };
    });
    await t.projector.start();
    for (const e of run.events) t.emit(e);
    await t.projector.idle();
    expect(most).toBe(1);
    expect(t.service.get.mock.calls.length).toBeLessThan(run.events.length);
  });

  it('tells the summary file’s publisher once the finished thread is with the outbox, and not before', async () => {
    const order: string[] = [];
    const finished = vi.fn((runId: string) => order.push(`finished ${runId}`));
    const t = setup(run.events.slice(0, 5), finished);
    await t.projector.project(run.state.runId);
    expect(finished).not.toHaveBeenCalled();
    t.outbox.publish.mockImplementation(async (_runId, message) => {
      order.push(message.key);
      return { outcome: 'changed' as const, version: 1 };
    });
    t.setEvents(run.events);
    await t.projector.project(run.state.runId);
    expect(finished).toHaveBeenCalledWith(run.state.runId);
    expect(order.at(-1)).toBe(`finished ${run.state.runId}`);
    expect(order).toContain('summary');
  });

  it('tries again when the outbox cannot store a message, and gets there', async () => {
    const t = setup(run.events.slice(0, 5));
    t.outbox.publish.mockRejectedValueOnce(new OutboxUnavailableError('store the message', new Error('ECONNREFUSED')));
    await t.projector.project(run.state.runId);
    await vi.waitFor(() => expect(t.published.map((p) => p.message.key)).toContain('step-check_healthz'));
    expect(t.published.filter((p) => p.message.key === 'header')).toHaveLength(1);
    await t.projector.close();
  });
});
