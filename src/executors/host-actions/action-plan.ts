import type { HostActionName, RecoveryConfig } from '../../config/recovery-config.js';
import { scrubText } from './output-tail.js';
import { checkParameters, substitute } from './parameters.js';
import { prepareCommand } from './run-host-action.js';

/** What a host action will do when it runs, as an approver must see it: secrets and tokens redacted. */
export type HostActionPlan =
  | { readonly mode: 'command'; readonly argv: readonly string[]; readonly timeoutSeconds: number }
  | { readonly mode: 'http'; readonly method: string; readonly url: string; readonly timeoutSeconds: number }
  | { readonly mode: 'manual'; readonly instructions: string }
  | { readonly mode: 'unknown'; readonly reason: string };

/**
 * The action exactly as it would run with these parameters, without running it. A parameter not known yet (a
 * decision still to come) or a value the action would refuse gives `unknown` with the reason, never a guess.
 */
export function planHostAction(
  action: HostActionName,
  config: RecoveryConfig,
  params: Readonly<Record<string, string>>,
  runId: string,
): HostActionPlan {
  const configured = config.actions[action];
  try {
    const values = checkParameters(params, runId);
    switch (configured.type) {
      case 'command':
        return {
          mode: 'command',
          argv: prepareCommand(action, configured, values).map((a) => scrubText(a)),
          timeoutSeconds: configured.timeoutSeconds,
        };
      case 'http': {
        const url = substitute(configured.url, values, { action, placement: 'url' });
        return {
          mode: 'http',
          method: configured.method,
          url: scrubText(redactQuery(url), configured.secretValues),
          timeoutSeconds: configured.timeoutSeconds,
        };
      }
      case 'manual':
        return {
          mode: 'manual',
          instructions: substitute(configured.instructions, values, { action, placement: 'instructions' }),
        };
    }
  } catch (err) {
    return { mode: 'unknown', reason: err instanceof Error ? err.message : String(err) };
  }
}

const SECRET_NAME = /token|key|secret|pass|auth|sig/i;

// Tokens in a URL that did not come from the environment: user info, and query values whose names say secret.
function redactQuery(url: string): string {
  const withoutUser = url.replace(/^(https?:\/\/)[^/@]+@/, '$1[redacted]@');
  const at = withoutUser.indexOf('?');
  if (at < 0) return withoutUser;
  const pairs = withoutUser
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=')[0] ?? '';
      return SECRET_NAME.test(name) ? `${name}=[redacted]` : pair;
    });
  return `${withoutUser.slice(0, at)}?${pairs.join('&')}`;
}
