import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { simHostActions } from '../../../sim/index.js';
import { CONTROL_TOKEN_VARIABLE, demoRecoveryConfigYaml } from '../../../src/cli/demo-setup.js';
import { RecoveryConfigInvalidError } from '../../../src/errors.js';

// The host actions cross from the simulator to the bot as plain data; the bot's own schema decides if they do.

const env = { [CONTROL_TOKEN_VARIABLE]: 'control-token' };
const actions = simHostActions('http://127.0.0.1:4101', { tokenVariable: CONTROL_TOKEN_VARIABLE });

describe('the demo recovery config', () => {
  it("takes the simulator's host actions, every one an http call with the token left in the environment", () => {
    const yaml = demoRecoveryConfigYaml(actions, env);
    expect(yaml).not.toContain('control-token');
    const file = parse(yaml);
    expect(file.actions.restart_runtime).toMatchObject({ type: 'http', url: 'http://127.0.0.1:4101/host/restart' });
    expect(file.release).toEqual({ previous_known_good: 'v1' });
  });

  it('refuses a backend that leaves a host action out, naming it', () => {
    const { switch_release: _left, ...rest } = actions;
    let refused: unknown;
    try {
      demoRecoveryConfigYaml(rest, env);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(RecoveryConfigInvalidError);
    expect((refused as RecoveryConfigInvalidError).problems).toEqual([
      'actions.switch_release: not wired by the backend',
    ]);
  });

  it('refuses host actions the schema refuses, or whose token is missing', () => {
    expect(() => demoRecoveryConfigYaml({ ...actions, restart_runtime: { type: 'http' } }, env)).toThrow(
      RecoveryConfigInvalidError,
    );
    expect(() => demoRecoveryConfigYaml(actions, {})).toThrow(/DEMO_SIM_CONTROL_TOKEN is not set/);
  });
});
