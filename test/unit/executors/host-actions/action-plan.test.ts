import { describe, expect, it } from 'vitest';
import { parseRecoveryConfig } from '../../../../src/config/recovery-config.js';
import { planHostAction } from '../../../../src/executors/host-actions/index.js';

const CONFIG = parseRecoveryConfig(
  `
actions:
  restore_backup:
    type: command
    argv: [/usr/local/bin/dg-restore, --artifact, "{artifact}", --run, "{run_id}"]
    timeout_s: 3600
  switch_release:
    type: http
    method: POST
    url: "https://ops:hunter2pass@deploy.example/switch?release={release}&token=abc123secret"
    headers: {authorization: "Bearer \${env:DEPLOY_TOKEN}"}
    timeout_s: 30
`,
  'recovery.yaml',
  { DEPLOY_TOKEN: 'deploy-token-value-1234' },
);

describe('planHostAction', () => {
  it('shows the argv exactly as it would run, parameters filled in', () => {
    expect(planHostAction('restore_backup', CONFIG, { artifact: 'bk-7' }, 'run-1')).toEqual({
      mode: 'command',
      argv: ['/usr/local/bin/dg-restore', '--artifact', 'bk-7', '--run', 'run-1'],
      timeoutSeconds: 3600,
    });
  });

  it('shows method and URL with user info and token-like query values redacted, the release kept', () => {
    const plan = planHostAction('switch_release', CONFIG, { release: 'v1' }, 'run-1');
    expect(plan).toEqual({
      mode: 'http',
      method: 'POST',
      url: 'https://[redacted]@deploy.example/switch?release=v1&token=[redacted]',
      timeoutSeconds: 30,
    });
    expect(JSON.stringify(plan)).not.toContain('deploy-token-value-1234');
  });

  it('says what it cannot show instead of guessing: a parameter not chosen yet', () => {
    const plan = planHostAction('restore_backup', CONFIG, {}, 'run-1');
    expect(plan.mode).toBe('unknown');
    expect(plan.mode === 'unknown' && plan.reason).toContain('artifact');
  });

  it('shows the instructions of a manual action', () => {
    const plan = planHostAction('stop_writes', CONFIG, {}, 'run-1');
    expect(plan.mode).toBe('manual');
  });
});
