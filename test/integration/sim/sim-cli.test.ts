import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../helpers/run-to-end.js';

// `npm run sim` as a person types it: variants are listed in the help and an unknown one is refused up front.

describe('npm run sim -- --variant', () => {
  it('lists the variants in its help and refuses an unknown one with the valid names, starting nothing', async () => {
    const [help, unknown] = await Promise.all([
      runToEnd('npx', ['tsx', 'sim/main.ts', '--help'], process.env),
      runToEnd('npx', ['tsx', 'sim/main.ts', '--variant', 'slow-replay'], process.env),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--variant NAME/);
    expect(help.stdout).toMatch(/\n {2}slow-replays +every replay run/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown variant "slow-replay"; valid variants: slow-replays, lagging-restore');
    expect(unknown.stdout).not.toContain('DecisionGraph simulator');
  }, 45_000);
});
