import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_HOST_ACTIONS } from '../../../sim/control/recovery-actions.js';
import { SIM_TABLES } from '../../../sim/db/tables.js';
import { HOST_ACTION_NAMES } from '../../../src/config/recovery-config.js';
import { DECISIONGRAPH_TABLES } from '../../../src/executors/dg-sql/tables.js';

// The bot and the simulator each keep their own lists, both taken from DecisionGraph's contract: a mistake in one
// shows up here instead of being agreed with.

describe("the simulator's lists", () => {
  it('back up and restore exactly the tables its schema creates', () => {
    const schema = readFileSync(new URL('../../../sim/db/schema.sql', import.meta.url), 'utf8');
    const created = [...schema.matchAll(/^CREATE TABLE IF NOT EXISTS (\w+)/gm)].map((m) => m[1]);
    expect([...SIM_TABLES].sort()).toEqual(created.sort());
  });

  it("name the same tables as the bot's read-only checks", () => {
    expect([...DECISIONGRAPH_TABLES].sort()).toEqual([...SIM_TABLES].sort());
  });

  it("serve every host action the bot's recovery config knows, and no other", () => {
    expect([...RUNBOOK_HOST_ACTIONS].sort()).toEqual([...HOST_ACTION_NAMES].sort());
  });
});
