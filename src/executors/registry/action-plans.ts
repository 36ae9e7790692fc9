import { type HostActionName, isHostActionName, type RecoveryConfig } from '../../config/recovery-config.js';
import type { Json } from '../../runbook/json.js';
import { resolveParams } from '../../runbook/params.js';
import { isExecutorStep, type Step } from '../../runbook/scenario-schema.js';
import type { RunState } from '../../runbook/state.js';
import { formatDuration } from '../../runbook/time-format.js';
import { planHostAction } from '../host-actions/index.js';

/** What a step will do, for the approval that lets it run: a plain sentence and the exact command or request. */
export interface ActionPlanText {
  readonly summary: string;
  /** The argv (joined with spaces) or `METHOD url`, secrets redacted; absent when there is nothing to quote. */
  readonly exact?: string;
}

function hostPlanText(action: HostActionName, config: RecoveryConfig, params: Record<string, Json>, runId: string) {
  const strings: Record<string, string> = {};
  for (const name of ['artifact', 'release'] as const) {
    const v = params[name];
    if (typeof v === 'string' && v !== '') strings[name] = v;
  }
  const plan = planHostAction(action, config, strings, runId);
  switch (plan.mode) {
    case 'command':
      return {
        summary: `runs a command on the bot's host (no shell, stopped after ${formatDuration(plan.timeoutSeconds * 1000)})`,
        exact: plan.argv.join(' '),
      };
    case 'http':
      return {
        summary: `sends a webhook (stopped after ${formatDuration(plan.timeoutSeconds * 1000)})`,
        exact: `${plan.method} ${plan.url}`,
      };
    case 'manual':
      return { summary: `asks a person to do it by hand: ${plan.instructions.split('\n')[0] ?? ''}` };
    case 'unknown':
      return { summary: `${action}: what it would run cannot be shown (${plan.reason})` };
  }
}

/**
 * The exact action an approval lets run, with the parameters the run has chosen so far: the configured host
 * action (argv, or method and URL) or the DecisionGraph call with its parameters. `undefined` for a step that
 * runs no executor.
 */
export function actionPlanText(config: RecoveryConfig, step: Step, state: RunState): ActionPlanText | undefined {
  if (!isExecutorStep(step)) return undefined;
  const params = resolveParams(step.params, state);
  const [family, name] = step.executor.split('.', 2);
  if (family === 'host' && name !== undefined && isHostActionName(name)) {
    return hostPlanText(name, config, params, state.runId);
  }
  const shown = Object.entries(params)
    .filter(([k, v]) => k !== 'reason' && (typeof v === 'string' || typeof v === 'number'))
    .map(([k, v]) => `${k}=${String(v)}`);
  return {
    summary: `calls DecisionGraph's API (${step.executor})`,
    ...(shown.length > 0 ? { exact: shown.join(' ') } : {}),
  };
}
