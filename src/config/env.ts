import { z } from 'zod';
import { ConfigInvalidError } from '../errors.js';
import { parseRedisConnection, type RedisConnection } from './redis-connection.js';

const secret = z.string().min(1, 'must not be empty');
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));
const optionalText = optionalSecret;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const postgresUrl = z
  .string()
  .min(1, 'must not be empty')
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// URL')
  .refine(isWellFormedPostgresUrl, 'must be a well-formed postgres://user:password@host:port/database URL');

/**
 * pg reads a connection string leniently and fails only at the first connection, or throws on a bad escape then:
 * the URL must parse, name a host (or a `host=` socket), and its user and password must decode.
 */
function isWellFormedPostgresUrl(value: string): boolean {
  if (!/^postgres(ql)?:\/\//.test(value)) return true;
  let url: URL;
  try {
    url = new URL(value);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURIComponent(url.pathname);
  } catch {
    return false;
  }
  return url.hostname !== '' || url.searchParams.has('host');
}
const redisUrl = z
  .string()
  .min(1, 'must not be empty')
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// URL');

/**
 * The environment the bot reads, and nothing else reads `process.env`. Slack values are optional here because
 * the terminal front end and the simulator-backed demo run without Slack; the Slack entry point checks them.
 */
const EnvSchema = z.object({
  DG_BASE_URL: httpUrl,
  DG_TENANT_ID: z.string().min(1).max(200).default('default'),
  DG_API_TOKEN: secret,
  DG_ADMIN_TOKEN: optionalSecret,
  DG_DATABASE_URL: postgresUrl,
  DG_KNOWN_TRACE_ID: z.string().min(1, 'must not be empty').max(200),
  DG_KNOWN_WORKFLOW_ID: optionalText,
  DATABASE_URL: postgresUrl,
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  SLACK_BOT_TOKEN: optionalSecret,
  SLACK_SIGNING_SECRET: optionalSecret,
  SLACK_APP_TOKEN: optionalSecret,
  SLACK_API_URL: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(httpUrl.optional()),
  APPROVAL_REMINDER_MINUTES: z
    .string()
    .regex(/^\d{1,4}$/, 'must be a whole number of minutes')
    .default('10')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1 minute')),
  APPROVAL_TIMEOUT_MINUTES: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a whole number of minutes')
    .default('60')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1 minute')),
  PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number')
    .default('3000')
    .transform(Number)
    .pipe(z.number().int().min(0).max(65535, 'must be a port number')),
  METRICS_PORT: z
    .string()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^\d{1,5}$/, 'must be a port number')
        .transform(Number)
        .pipe(z.number().int().min(0).max(65535, 'must be a port number'))
        .optional(),
    )
    .optional(),
  ALERT_WEBHOOK_TOKEN: optionalText,
  PAGERDUTY_WEBHOOK_SECRET: optionalText,
  ALERT_CHANNEL: z
    .string()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^[CG][A-Z0-9]{2,30}$/, 'must be a Slack channel id such as C0123ABCD')
        .optional(),
    )
    .optional(),
  RECOVERY_CONFIG: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The parsed, frozen configuration handed to every component at start-up. */
export interface Config {
  readonly decisionGraph: {
    /** Base URL of DecisionGraph, e.g. `http://127.0.0.1:4100`. */
    readonly baseUrl: string;
    /** Tenant sent as `x-tenant-id`. @defaultValue `default` */
    readonly tenantId: string;
    /** Service-account bearer token used for reader calls. */
    readonly apiToken: string;
    /** Admin token for replays; falls back to `apiToken` when unset. @defaultValue undefined */
    readonly adminToken: string | undefined;
    /** DecisionGraph's own Postgres, reached with a read-only role. */
    readonly databaseUrl: string;
    /** A trace known to exist, read to prove trace readability. */
    readonly knownTraceId: string;
    /** A workflow known to exist; workflow checks run only when set. @defaultValue undefined */
    readonly knownWorkflowId: string | undefined;
  };
  /** The bot's own journal database. */
  readonly databaseUrl: string;
  /** Redis for BullMQ and the live run logs. @defaultValue `redis://127.0.0.1:6379` */
  readonly redisUrl: string;
  /** TLS files and Sentinel for Redis (see `redisClientOptions`). @defaultValue undefined */
  readonly redis?: RedisConnection;
  readonly slack: {
    readonly botToken: string | undefined;
    readonly signingSecret: string | undefined;
    /** Socket Mode is used when set. @defaultValue undefined */
    readonly appToken: string | undefined;
    /** Web API base URL override, e.g. for a local fake. @defaultValue Slack's own */
    readonly apiUrl: string | undefined;
    /** A wait for a person (decision, approval, manual action, pause) left this long gets a reminder. @defaultValue 10 */
    readonly reminderMinutes: number;
  };
  /**
   * An approval nobody gave for this long expires: the run pauses, recorded, and Retry asks again. Must be longer
   * than the reminder. @defaultValue 60
   */
  readonly approvalTimeoutMinutes: number;
  /** HTTP port of the Slack receiver, which also answers `/healthz`, `/readyz` and `/metrics`. @defaultValue 3000 */
  readonly port: number;
  /**
   * A port of its own for `/healthz`, `/readyz` and `/metrics`; the only HTTP port of a workers-only process.
   * @defaultValue undefined (none)
   */
  readonly metricsPort: number | undefined;
  /**
   * Alert intake: Alertmanager's bearer token (`POST /hooks/alertmanager`), PagerDuty's signing secret
   * (`POST /hooks/pagerduty`), and the channel alerts are posted in. Each route is off while its value is unset.
   * @defaultValue undefined (off)
   */
  readonly alerts:
    | { readonly token: string | undefined; readonly pagerDutySecret: string | undefined; readonly channel: string }
    | undefined;
  /** Path of the YAML file with host actions and access rules. @defaultValue undefined (all actions manual) */
  readonly recoveryConfigPath: string | undefined;
  /** @defaultValue `info` */
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface LoadConfigOptions {
  /** The Slack front end will run: its values are checked in the same pass. @defaultValue false */
  readonly requireSlack?: boolean;
}

/**
 * Parses the environment once. Every missing or malformed value is reported in one pass, one line per problem
 * naming the variable, never its value (zod issue messages here never echo input).
 */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(environment)';
        const why = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
        return `${name}: ${why}`;
      });
  const reminder = EnvSchema.shape.APPROVAL_REMINDER_MINUTES.safeParse(env.APPROVAL_REMINDER_MINUTES);
  const timeout = EnvSchema.shape.APPROVAL_TIMEOUT_MINUTES.safeParse(env.APPROVAL_TIMEOUT_MINUTES);
  if (reminder.success && timeout.success && timeout.data <= reminder.data) {
    // The reminder would never be seen before the approval expires.
    problems.push('APPROVAL_TIMEOUT_MINUTES: must be longer than APPROVAL_REMINDER_MINUTES');
  }
  if (env.ALERT_WEBHOOK_TOKEN && !env.ALERT_CHANNEL) {
    problems.push('ALERT_CHANNEL: is required when ALERT_WEBHOOK_TOKEN is set (the channel alerts are posted in)');
  }
  if (env.PAGERDUTY_WEBHOOK_SECRET && !env.ALERT_CHANNEL) {
    problems.push('ALERT_CHANNEL: is required when PAGERDUTY_WEBHOOK_SECRET is set (the channel alerts are posted in)');
  }
  const redis = parseRedisConnection(env);
  problems.push(...redis.problems);
  if (options.requireSlack) {
    const slack = (name: 'SLACK_BOT_TOKEN' | 'SLACK_SIGNING_SECRET' | 'SLACK_APP_TOKEN') =>
      EnvSchema.shape[name].safeParse(env[name]).data;
    problems.push(
      ...slackProblems({
        botToken: slack('SLACK_BOT_TOKEN'),
        signingSecret: slack('SLACK_SIGNING_SECRET'),
        appToken: slack('SLACK_APP_TOKEN'),
      }),
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigInvalidError(problems);
  const e = parsed.data;
  return deepFreeze({
    decisionGraph: {
      baseUrl: e.DG_BASE_URL.replace(/\/+$/, ''),
      tenantId: e.DG_TENANT_ID,
      apiToken: e.DG_API_TOKEN,
      adminToken: e.DG_ADMIN_TOKEN,
      databaseUrl: e.DG_DATABASE_URL,
      knownTraceId: e.DG_KNOWN_TRACE_ID,
      knownWorkflowId: e.DG_KNOWN_WORKFLOW_ID,
    },
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    ...(redis.connection.tls || redis.connection.sentinel ? { redis: redis.connection } : {}),
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      reminderMinutes: e.APPROVAL_REMINDER_MINUTES,
    },
    approvalTimeoutMinutes: e.APPROVAL_TIMEOUT_MINUTES,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    alerts:
      (e.ALERT_WEBHOOK_TOKEN || e.PAGERDUTY_WEBHOOK_SECRET) && e.ALERT_CHANNEL
        ? { token: e.ALERT_WEBHOOK_TOKEN, pagerDutySecret: e.PAGERDUTY_WEBHOOK_SECRET, channel: e.ALERT_CHANNEL }
        : undefined,
    recoveryConfigPath: e.RECOVERY_CONFIG,
    logLevel: e.LOG_LEVEL,
  });
}

/**
 * What the Slack front end cannot run without, one line per problem naming the variable, never a value. The rest
 * of the bot (workers, the terminal) runs without these values.
 */
export function slackProblems(values: {
  readonly botToken: string | undefined;
  readonly signingSecret: string | undefined;
  readonly appToken: string | undefined;
}): string[] {
  const { botToken, signingSecret, appToken } = values;
  const problems: string[] = [];
  if (botToken === undefined) problems.push('SLACK_BOT_TOKEN: is required to run the Slack front end (xoxb-…)');
  else if (!botToken.startsWith('xoxb-')) problems.push('SLACK_BOT_TOKEN: must be a bot token (xoxb-…)');
  if (signingSecret === undefined) {
    problems.push("SLACK_SIGNING_SECRET: is required to run the Slack front end (the app's signing secret)");
  }
  if (appToken !== undefined && !appToken.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN: must be an app-level token (xapp-…) with connections:write');
  }
  if (problems.length > 0) problems.push('start with --workers-only to run the job workers without Slack');
  return problems;
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
