import {
  HOST_ACTION_PARAMETERS,
  type HostActionParameter,
  type JsonValue,
  PLACEHOLDER_PATTERN,
} from '../../config/recovery-config.js';
import { HostActionParameterInvalidError, HostActionParameterMissingError } from './errors.js';

/** Longest parameter value accepted. */
export const PARAMETER_MAX_LENGTH = 200;

/**
 * Characters a parameter value may use. No spaces, quotes, `;`, `$`, `` ` ``, `|`, `&`, `<`, `>`, `*`, `?`,
 * braces or line breaks: even a configured `sh -c` wrapper cannot be talked into a second command.
 */
const SAFE_VALUE = /^[A-Za-z0-9._:/@+-]+$/;

export type HostActionParameters = Readonly<Partial<Record<HostActionParameter, string>>>;

/**
 * Checks every supplied value and adds `run_id`. Unknown names, empty, over-long or unsafe values are refused
 * whether or not the action uses them, so a bad value is caught the same way for every deployment.
 *
 * @throws HostActionParameterInvalidError
 */
export function checkParameters(params: Readonly<Record<string, string>>, runId: string): HostActionParameters {
  const checked: Partial<Record<HostActionParameter, string>> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!(HOST_ACTION_PARAMETERS as readonly string[]).includes(name)) {
      throw new HostActionParameterInvalidError(
        name,
        `is not a known parameter (${HOST_ACTION_PARAMETERS.join(', ')})`,
      );
    }
    if (name === 'run_id' && value !== runId) {
      throw new HostActionParameterInvalidError(name, 'must be the id of the run the action belongs to');
    }
    checkValue(name, value);
    checked[name as HostActionParameter] = value;
  }
  checkValue('run_id', runId);
  checked.run_id = runId;
  return checked;
}

function checkValue(name: string, value: unknown): void {
  if (typeof value !== 'string') throw new HostActionParameterInvalidError(name, 'must be a string');
  if (value.length === 0) throw new HostActionParameterInvalidError(name, 'must not be empty');
  if (value.length > PARAMETER_MAX_LENGTH) {
    throw new HostActionParameterInvalidError(name, `must be at most ${PARAMETER_MAX_LENGTH} characters`);
  }
  if (!SAFE_VALUE.test(value)) {
    throw new HostActionParameterInvalidError(name, 'may only contain A-Z a-z 0-9 . _ : / @ + -');
  }
}

/** Where a template is used decides how a value is inserted and what else it must satisfy. */
export type Placement = 'argv' | 'url' | 'body' | 'instructions';

/**
 * Replaces `{name}` in `template`. In argv a value may not start with `-`, so it cannot turn into an option of
 * the configured program; in a URL it is percent-encoded.
 *
 * @throws HostActionParameterMissingError when the template names a parameter without a value
 * @throws HostActionParameterInvalidError for a leading `-` in argv
 */
export function substitute(
  template: string,
  values: HostActionParameters,
  context: { action: string; placement: Placement },
): string {
  return template.replace(PLACEHOLDER_PATTERN, (_match, name: string) => {
    const value = values[name as HostActionParameter];
    if (value === undefined) throw new HostActionParameterMissingError(context.action, name, context.placement);
    if (context.placement === 'argv' && value.startsWith('-')) {
      throw new HostActionParameterInvalidError(name, 'must not start with "-" (it would be read as an option)');
    }
    return context.placement === 'url' ? encodeURIComponent(value) : value;
  });
}

/** Substitutes inside every string of a JSON value; keys, numbers and booleans stay as configured. */
export function substituteJson(value: JsonValue, values: HostActionParameters, action: string): JsonValue {
  if (typeof value === 'string') return substitute(value, values, { action, placement: 'body' });
  if (Array.isArray(value)) return value.map((item) => substituteJson(item, values, action));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value)) out[key] = substituteJson(item, values, action);
    return out;
  }
  return value;
}
