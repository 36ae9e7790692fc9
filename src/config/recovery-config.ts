import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { RecoveryConfigInvalidError } from '../errors.js';

/** The host actions the runbook needs and no DecisionGraph API offers. */
export const HOST_ACTION_NAMES = [
  'restart_runtime',
  'stop_runtime',
  'start_runtime',
  'restore_postgres',
  'stop_writes',
  'preserve_database',
  'list_backups',
  'restore_backup',
  'switch_release',
] as const;

export type HostActionName = (typeof HOST_ACTION_NAMES)[number];

export function isHostActionName(value: string): value is HostActionName {
  return (HOST_ACTION_NAMES as readonly string[]).includes(value);
}

/**
 * The parameters an action may reference as `{name}` in argv elements, the URL, string values of the JSON body and
 * manual instructions. `run_id` is always available; `artifact` and `release` only when the step supplies them.
 */
export const HOST_ACTION_PARAMETERS = ['artifact', 'release', 'run_id'] as const;

export type HostActionParameter = (typeof HOST_ACTION_PARAMETERS)[number];

/** `{word}`; anything else in braces (JSON text, `${...}`) is left alone. */
export const PLACEHOLDER_PATTERN = /\{([a-z_][a-z0-9_]*)\}/g;

/** The placeholder names used in `text`, in order of appearance, repeated names once. */
export function placeholdersIn(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names];
}

/**
 * What the operator is told when an action is `manual`. Placeholders are filled in with the step's parameters
 * before the text is shown.
 */
export const DEFAULT_MANUAL_INSTRUCTIONS: Readonly<Record<HostActionName, string>> = Object.freeze({
  restart_runtime:
    'Restart the DecisionGraph runtime (bin/decisiongraph_beam start, or your supervisor) and click Done',
  stop_runtime:
    'Stop the DecisionGraph runtime (bin/decisiongraph_beam stop, or your supervisor), make sure no node still ' +
    'serves requests, and click Done',
  start_runtime: 'Start the DecisionGraph runtime (bin/decisiongraph_beam start, or your supervisor) and click Done',
  restore_postgres:
    "Bring DecisionGraph's Postgres back (start the service, or fail over to a healthy replica), check that it " +
    'accepts connections, and click Done',
  stop_writes:
    'Stop every writer to DecisionGraph (pause the integrations and clients that append events, or put the load ' +
    'balancer in maintenance mode) and click Done',
  preserve_database:
    'Preserve the broken database for investigation without changing it (pg_dump it or snapshot its volume), note ' +
    'where the copy is kept, and click Done',
  list_backups:
    'Find the Postgres backups available for DecisionGraph (id or path, time, size) and click Done; you will be ' +
    'asked which one to restore',
  restore_backup:
    "Restore backup {artifact} into DecisionGraph's Postgres (pg_restore or your backup tool), check that it " +
    'completed without errors, and click Done',
  switch_release:
    'Switch DecisionGraph to release {release} (deploy that release or git SHA, do not start it yet) and click Done',
});

/** An action the bot cannot perform: it shows the instructions and waits for a person to click Done. */
export interface ManualAction {
  readonly type: 'manual';
  /** @defaultValue the action's entry in {@link DEFAULT_MANUAL_INSTRUCTIONS} */
  readonly instructions: string;
}

/** A program run without a shell; placeholders land as whole argv elements. */
export interface CommandAction {
  readonly type: 'command';
  /** `argv[0]` is the program (absolute, or looked up on the child's `PATH`). */
  readonly argv: readonly string[];
  /** The process group gets SIGTERM after this, then SIGKILL after a grace period. No default: say it. */
  readonly timeoutSeconds: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A webhook. */
export interface HttpAction {
  readonly type: 'http';
  readonly method: HttpMethod;
  /** May hold placeholders in its path and query; values are URL-encoded when substituted. */
  readonly url: string;
  /**
   * Header values with `${env:NAME}` references already resolved. Not enumerable, so the config can be serialised
   * (job data, logs, evidence) without carrying secrets along. @defaultValue `{}`
   */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The values that came from the environment, scrubbed from anything the action reports. Not enumerable.
   * @defaultValue `[]`
   */
  readonly secretValues: readonly string[];
  /** Sent as JSON; placeholders are substituted inside its string values. @defaultValue undefined (no body) */
  readonly body: JsonValue | undefined;
  /** Covers connect, headers and body. No default: say it. */
  readonly timeoutSeconds: number;
}

export type HostActionConfig = ManualAction | CommandAction | HttpAction;

/**
 * Who may do what. Slack ids: users start with `U` or `W`, user groups with `S`, channels with `C`, `G` or `D`.
 *
 * With no `RECOVERY_CONFIG` (or no `access` section, or a list left out) nobody is special: anyone in any channel
 * may start, abort and approve runs, because an install without a config must still be able to recover. The
 * two-person rule holds all the same, so a destructive step still needs a second person.
 */
export interface Access {
  /** User or user-group ids allowed to start and abort runs. `null`: anyone. @defaultValue null */
  readonly operators: readonly string[] | null;
  /** User or user-group ids allowed to approve destructive steps. `null`: anyone. @defaultValue null */
  readonly approvers: readonly string[] | null;
  /** Channels the bot accepts commands in. Empty: any channel. @defaultValue `[]` */
  readonly channels: readonly string[];
  /** The approver of a destructive step must not be the person who started the run. @defaultValue true */
  readonly twoPersonRule: boolean;
}

export interface RecoveryConfig {
  /** The file the config came from; `null` when `RECOVERY_CONFIG` is unset. */
  readonly source: string | null;
  /** Every host action, `manual` unless configured otherwise. */
  readonly actions: Readonly<Record<HostActionName, HostActionConfig>>;
  readonly access: Access;
  readonly release: {
    /** Offered first when switching release. @defaultValue undefined */
    readonly previousKnownGood: string | undefined;
  };
  /**
   * The environment command actions run with: only these variables from the bot's environment, so the bot's own
   * tokens never reach a host command. @defaultValue `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`, `USER`, `LOGNAME` when set
   */
  readonly commandEnv: Readonly<Record<string, string>>;
}

const COMMAND_ENV_KEYS = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME'] as const;

/** Longest timeout a host action may ask for: a day. A restore can take hours; a stuck one must still end. */
const MAX_TIMEOUT_SECONDS = 86_400;

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the bot sets itself or that undici manages; configuring them would be silently wrong. */
const RESERVED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'idempotency-key'];

const SLACK_PRINCIPAL = /^[UWS][A-Z0-9]{2,}$/;
const SLACK_CHANNEL = /^[CGD][A-Z0-9]{2,}$/;
/** Same rule as a parameter value, because the release is substituted as `{release}`. */
const RELEASE = /^[A-Za-z0-9._:/@+-]{1,200}$/;

const timeoutSeconds = z
  .number({ error: (iss) => (iss.input === undefined ? 'is required (seconds)' : 'must be a number of seconds') })
  .positive('must be more than 0 seconds')
  .max(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} seconds`);

const placeholderText = (what: string) =>
  z.string().superRefine((text, ctx) => {
    for (const name of placeholdersIn(text)) {
      if (!(HOST_ACTION_PARAMETERS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `${what} uses unknown placeholder {${name}}; valid: ${HOST_ACTION_PARAMETERS.map((p) => `{${p}}`).join(', ')}`,
        });
      }
    }
    if (text.includes('${env:')) {
      ctx.addIssue({ code: 'custom', message: `${what} cannot use \${env:...}; only header values can` });
    }
  });

const ManualSchema = z.strictObject({
  type: z.literal('manual'),
  instructions: placeholderText('instructions')
    .pipe(z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'))
    .optional(),
});

const CommandSchema = z.strictObject({
  type: z.literal('command'),
  argv: z
    .array(placeholderText('argument').pipe(z.string().min(1, 'must not be empty')), {
      error: 'must be a list of strings, program first',
    })
    .min(1, 'must name the program to run'),
  timeout_s: timeoutSeconds,
});

const httpUrl = placeholderText('url').superRefine((url, ctx) => {
  const origin = /^[a-z]+:\/\/[^/?#]*/i.exec(url)?.[0] ?? '';
  if (origin.includes('{')) {
    ctx.addIssue({ code: 'custom', message: 'placeholders may appear only in the path and query, not the host' });
    return;
  }
  const probe = url.replace(PLACEHOLDER_PATTERN, 'x');
  if (!z.url({ protocol: /^https?$/ }).safeParse(probe).success) {
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  }
});

const JsonSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonSchema), z.record(z.string(), JsonSchema)]),
);

type Env = Readonly<Record<string, string | undefined>>;

/** Header values with `${env:NAME}` resolved from `env`; problems are reported at the header's key path. */
const headersSchema = (env: Env) =>
  z
    .record(
      z.string().regex(HEADER_NAME, 'is not a valid header name'),
      z.string({ error: 'header values must be strings' }),
    )
    .optional()
    .transform((templates, ctx) => {
      const resolved = { headers: {} as Record<string, string>, secretValues: [] as string[] };
      for (const [header, template] of Object.entries(templates ?? {})) {
        const problem = (message: string) => ctx.addIssue({ code: 'custom', path: [header], message });
        if (RESERVED_HEADERS.includes(header.toLowerCase())) {
          problem('is set by the bot and cannot be configured');
          continue;
        }
        if (template.replace(ENV_REFERENCE, '').includes('${')) {
          problem(`malformed reference; write \${env:NAME} with NAME made of letters, digits and _`);
          continue;
        }
        let ok = true;
        const value = template.replace(ENV_REFERENCE, (_m, variable: string) => {
          const found = env[variable];
          if (found === undefined || found === '') {
            problem(`environment variable ${variable} is not set`);
            ok = false;
            return '';
          }
          resolved.secretValues.push(found);
          return found;
        });
        if (!ok) continue;
        if (/[\r\n\0]/.test(value)) {
          problem(`value contains a line break or NUL (after resolving \${env:...})`);
          continue;
        }
        resolved.headers[header] = value;
      }
      return resolved;
    });

const httpSchema = (env: Env) =>
  z
    .strictObject({
      type: z.literal('http'),
      method: z
        .string({ error: 'is required (GET, POST, PUT, PATCH or DELETE)' })
        .transform((m) => m.toUpperCase())
        .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], { error: 'must be GET, POST, PUT, PATCH or DELETE' })),
      url: httpUrl,
      headers: headersSchema(env),
      body: JsonSchema.optional(),
      timeout_s: timeoutSeconds,
    })
    .superRefine((action, ctx) => {
      if (action.body !== undefined && (action.method === 'GET' || action.method === 'DELETE')) {
        ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${action.method} request cannot carry a body` });
      }
      if (action.body !== undefined) checkBodyStrings(action.body, ['body'], ctx);
    });

function checkBodyStrings(value: JsonValue, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (typeof value === 'string') {
    const result = placeholderText('body value').safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: 'custom', path });
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) checkBodyStrings(item, [...path, i], ctx);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkBodyStrings(item, [...path, key], ctx);
  }
}

const actionSchema = (env: Env) =>
  z.discriminatedUnion('type', [ManualSchema, CommandSchema, httpSchema(env)], {
    error: (iss) => {
      const input: unknown = iss.input;
      if (input === null || typeof input !== 'object') return 'must be a mapping with a type (manual, command or http)';
      return (input as { type?: unknown }).type === undefined
        ? 'is required (manual, command or http)'
        : 'must be one of manual, command, http';
    },
  });

const principals = (what: string) =>
  z
    .array(z.string().regex(SLACK_PRINCIPAL, `must be Slack user (U…, W…) or user-group (S…) ids`), {
      error: `must be a list of Slack ids`,
    })
    .min(1, `must list at least one id; leave the key out to let anyone ${what}`);

const fileSchema = (env: Env) =>
  z.strictObject(
    {
      actions: z
        .strictObject(Object.fromEntries(HOST_ACTION_NAMES.map((name) => [name, actionSchema(env).optional()])), {
          error: 'must be a mapping of action names',
        })
        .optional(),
      access: z
        .strictObject(
          {
            operators: principals('operate').optional(),
            approvers: principals('approve').optional(),
            channels: z
              .array(z.string().regex(SLACK_CHANNEL, 'must be Slack channel ids (C…, G…, D…)'), {
                error: 'must be a list of Slack channel ids',
              })
              .optional(),
            two_person_rule: z.boolean({ error: 'must be true or false' }).optional(),
          },
          { error: 'must be a mapping (operators, approvers, channels, two_person_rule)' },
        )
        .optional(),
      release: z
        .strictObject(
          {
            previous_known_good: z
              .string({ error: 'must be a release name or git SHA' })
              .regex(RELEASE, 'must be 1-200 characters of A-Z a-z 0-9 . _ : / @ + -')
              .refine((v) => !v.startsWith('-'), 'must not start with "-"')
              .optional(),
          },
          { error: 'must be a mapping (previous_known_good)' },
        )
        .optional(),
    },
    { error: 'the file must be a YAML mapping with actions, access and release' },
  );

type FileShape = z.output<ReturnType<typeof fileSchema>>;

/** Everything an install gets without `RECOVERY_CONFIG`: every action manual, access open, two-person rule on. */
export function defaultRecoveryConfig(env: Readonly<Record<string, string | undefined>> = {}): RecoveryConfig {
  return build(null, {}, env);
}

/**
 * Reads and validates the file `RECOVERY_CONFIG` names. `path` undefined (or empty) gives
 * {@link defaultRecoveryConfig}. A path that names no readable file is an error, never a silent default.
 *
 * @param env - resolves `${env:NAME}` in header values and supplies the command environment; never logged.
 * @throws RecoveryConfigInvalidError listing every problem with its key path (and YAML line), never a value.
 */
export async function loadRecoveryConfig(
  path: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<RecoveryConfig> {
  if (path === undefined || path === '') return defaultRecoveryConfig(env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'file not found (RECOVERY_CONFIG names it; unset RECOVERY_CONFIG to make every action manual)'
        : code === 'EACCES'
          ? 'file is not readable (permission denied)'
          : code === 'EISDIR'
            ? 'is a directory, not a YAML file'
            : `cannot read the file (${code ?? 'unknown error'})`;
    throw new RecoveryConfigInvalidError(path, [why]);
  }
  return parseRecoveryConfig(text, path, env);
}

/** Validates YAML text; `path` only names the source in errors. See {@link loadRecoveryConfig}. */
export function parseRecoveryConfig(
  text: string,
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): RecoveryConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true, version: '1.2' });
  if (doc.errors.length > 0) {
    throw new RecoveryConfigInvalidError(
      path,
      doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]?.replace(/:$/, '')}`),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // An unresolved alias or an alias bomb is found only here; it too is a problem of this file.
    throw new RecoveryConfigInvalidError(path, [`YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (raw === null || raw === undefined) {
    throw new RecoveryConfigInvalidError(path, [
      'the file is empty; unset RECOVERY_CONFIG to make every action manual',
    ]);
  }
  const lineOf = (keyPath: readonly PropertyKey[]) => yamlLine(doc.contents, keyPath, lineCounter);
  const parsed = fileSchema(env).safeParse(raw);
  if (!parsed.success) {
    // Reported in file order, so the list reads top-down alongside the YAML.
    const problems = parsed.error.issues
      .flatMap((issue) => describeIssue(issue, lineOf))
      .map((problem, index) => ({ problem, index, line: Number(/ \(line (\d+)\): /.exec(problem)?.[1] ?? Infinity) }))
      .sort((a, b) => a.line - b.line || a.index - b.index)
      .map((p) => p.problem);
    throw new RecoveryConfigInvalidError(path, problems);
  }
  return build(path, parsed.data, env);
}

function build(source: string | null, file: FileShape, env: Env): RecoveryConfig {
  const actions = {} as Record<HostActionName, HostActionConfig>;
  for (const name of HOST_ACTION_NAMES) {
    const action = file.actions?.[name];
    if (action === undefined || action.type === 'manual') {
      actions[name] = Object.freeze({
        type: 'manual',
        instructions: action?.instructions ?? DEFAULT_MANUAL_INSTRUCTIONS[name],
      });
    } else if (action.type === 'command') {
      actions[name] = Object.freeze({
        type: 'command',
        argv: Object.freeze([...action.argv]),
        timeoutSeconds: action.timeout_s,
      });
    } else {
      const http = {
        type: 'http',
        method: action.method,
        url: action.url,
        body: action.body === undefined ? undefined : deepFreeze(structuredClone(action.body)),
        timeoutSeconds: action.timeout_s,
      } as HttpAction;
      const headers = action.headers;
      // Secrets stay reachable by property access but out of JSON.stringify, spreads and Object.entries.
      Object.defineProperty(http, 'headers', { value: Object.freeze({ ...headers.headers }), enumerable: false });
      Object.defineProperty(http, 'secretValues', {
        value: Object.freeze([...headers.secretValues]),
        enumerable: false,
      });
      actions[name] = Object.freeze(http);
    }
  }
  const commandEnv: Record<string, string> = {};
  for (const key of COMMAND_ENV_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') commandEnv[key] = value;
  }
  return deepFreeze({
    source,
    actions,
    access: {
      operators: file.access?.operators ?? null,
      approvers: file.access?.approvers ?? null,
      channels: file.access?.channels ?? [],
      twoPersonRule: file.access?.two_person_rule ?? true,
    },
    release: { previousKnownGood: file.release?.previous_known_good },
    commandEnv,
  });
}

function describeIssue(
  issue: z.core.$ZodIssue,
  lineOf: (keyPath: readonly PropertyKey[]) => number | undefined,
): string[] {
  if (issue.code === 'unrecognized_keys') {
    const inActions = issue.path.length === 1 && issue.path[0] === 'actions';
    return issue.keys.map((key) =>
      located(
        [...issue.path, key],
        inActions ? `unknown action; valid actions: ${HOST_ACTION_NAMES.join(', ')}` : 'unknown key',
        lineOf,
      ),
    );
  }
  if (issue.code === 'invalid_key') {
    return [located(issue.path, issue.issues[0]?.message ?? 'is not a valid key', lineOf)];
  }
  // A discriminated union reports a bad `type` at the action itself; name the key that is wrong.
  const path =
    issue.code === 'invalid_union' && 'discriminator' in issue && issue.path.at(-1) !== 'type'
      ? [...issue.path, 'type']
      : issue.path;
  return [located(path, issue.message, lineOf)];
}

function located(
  keyPath: readonly PropertyKey[],
  why: string,
  lineOf: (keyPath: readonly PropertyKey[]) => number | undefined,
): string {
  const name = keyPath.length === 0 ? '(top level)' : keyPath.map(String).join('.');
  const line = lineOf(keyPath);
  return line === undefined ? `${name}: ${why}` : `${name} (line ${line}): ${why}`;
}

/** The line of the deepest node of `keyPath` present in the document: the key itself, or its parent when absent. */
function yamlLine(root: unknown, keyPath: readonly PropertyKey[], lineCounter: LineCounter): number | undefined {
  let node = root;
  let offset: number | undefined;
  for (const segment of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === segment);
      if (!pair) break;
      offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset).line;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Whether `userId` (or one of the user groups it belongs to) may start and abort runs. */
export function isOperator(access: Access, userId: string, userGroups: readonly string[] = []): boolean {
  return listed(access.operators, userId, userGroups);
}

/** Whether `userId` (or one of its user groups) may approve destructive steps; the two-person rule is separate. */
export function isApprover(access: Access, userId: string, userGroups: readonly string[] = []): boolean {
  return listed(access.approvers, userId, userGroups);
}

/** Whether the bot takes commands in `channelId`. */
export function channelAllowed(access: Access, channelId: string): boolean {
  return access.channels.length === 0 || access.channels.includes(channelId);
}

export type ApprovalCheck = { ok: true } | { ok: false; reason: 'not_an_approver' | 'two_person_rule' };

/** Approver list and two-person rule together: may `userId` approve a destructive step of a run `startedBy` began? */
export function mayApprove(
  access: Access,
  approval: { userId: string; userGroups?: readonly string[]; startedBy: string },
): ApprovalCheck {
  if (!isApprover(access, approval.userId, approval.userGroups)) return { ok: false, reason: 'not_an_approver' };
  if (access.twoPersonRule && approval.userId === approval.startedBy) return { ok: false, reason: 'two_person_rule' };
  return { ok: true };
}

function listed(allowed: readonly string[] | null, userId: string, userGroups: readonly string[]): boolean {
  if (allowed === null) return true;
  return allowed.includes(userId) || userGroups.some((group) => allowed.includes(group));
}
