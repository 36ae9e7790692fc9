import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { RUN_BUTTONS, register } from '../../../src/handlers/run-buttons.js';
import { ACTION, decideActionId } from '../../../src/slack/action-values.js';
import { depsWith, fakeService } from './fakes.js';

// The table is registered by one loop: every button the thread posts must reach exactly one row.

describe('the run-button table', () => {
  it('gives every button of a run’s thread exactly one listener, and Start recovery none', () => {
    const constraints: Array<string | RegExp> = [];
    const app = {
      action(constraint: string | RegExp) {
        constraints.push(constraint);
      },
    } as unknown as App;
    register(app, depsWith(fakeService().service).deps);
    expect(constraints).toHaveLength(Object.keys(RUN_BUTTONS).length);
    const takers = (id: string) => constraints.filter((c) => (typeof c === 'string' ? c === id : c.test(id))).length;
    const posted = [
      decideActionId(0),
      decideActionId(1, 'reason'),
      decideActionId(12, 'value'),
      ACTION.approve,
      ACTION.manualDone,
      ACTION.retry,
      ACTION.skip,
      ACTION.abort,
    ];
    for (const id of posted) expect(takers(id), id).toBe(1);
    expect(takers(ACTION.startRecovery)).toBe(0);
  });
});
