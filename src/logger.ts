import { AsyncLocalStorage } from 'node:async_hooks';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values are secrets wherever they appear (up to three levels deep, pino has no `**`). */
const SECRET_KEYS = [
  'token',
  'authorization',
  'password',
  'secret',
  'signingSecret',
  'botToken',
  'appToken',
  'apiToken',
  'adminToken',
  'databaseUrl',
  'connectionString',
  'DG_API_TOKEN',
  'DG_ADMIN_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'DATABASE_URL',
  'DG_DATABASE_URL',
  'x-slack-signature',
  'cookie',
];

export const REDACTED = '[redacted]';

export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    const join = (prefix: string) => (k.startsWith('[') ? `${prefix}${k}` : prefix ? `${prefix}.${k}` : k);
    paths.push(join(''), join('*'), join('*.*'), join('*.*.*'));
  }
  return paths;
}

/** Matches bearer tokens and Slack tokens inside free text (error messages, URLs) as a second line of defence. */
const SECRET_TEXT = /(Bearer\s+)[^\s"']+|xox[abpr]-[\w-]+|xapp-[\w-]+|(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+(@)/g;

export function scrubSecrets(text: string): string {
  return text.replace(SECRET_TEXT, (_m, bearer?: string, pgPrefix?: string, at?: string) => {
    if (bearer) return `${bearer}${REDACTED}`;
    if (pgPrefix) return `${pgPrefix}${REDACTED}${at}`;
    return REDACTED;
  });
}

const logContext = new AsyncLocalStorage<Readonly<Record<string, string>>>();

/**
 * Runs `work` with these fields (a run's `runId` and `stepId`) on every line logged inside it, by any logger, also
 * by shared clients that hold the process logger (the DecisionGraph client's call lines).
 */
export function withLogContext<T>(fields: Readonly<Record<string, string>>, work: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, work);
}

/**
 * The root logger. Never log raw requests, responses or the Config: log chosen fields. Redaction and the message
 * scrubber are a second line of defence, proven by a test that logs a fixture full of secrets.
 */
export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  return pino(
    {
      name: options.name ?? 'dg-recovery',
      level: options.level ?? 'info',
      redact: { paths: redactPaths(), censor: REDACTED },
      // Fields of the surrounding step, unless the logger is already bound to them (no key twice in a line).
      mixin(_merge, _level, logger) {
        const context = logContext.getStore();
        if (!context) return {};
        const bound = logger.bindings();
        return Object.fromEntries(Object.entries(context).filter(([key]) => !(key in bound)));
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as typeof args;
          method.apply(this, scrubbed);
        },
      },
      serializers: {
        err: (err: unknown) => {
          const serialized = pino.stdSerializers.err(err as Error);
          if (serialized && typeof serialized.message === 'string')
            serialized.message = scrubSecrets(serialized.message);
          if (serialized && typeof serialized.stack === 'string') serialized.stack = scrubSecrets(serialized.stack);
          return serialized;
        },
      },
    },
    destination,
  );
}

/**
 * A child logger built on first use. Creating a pino child serialises its bindings through the redaction above,
 * about 70 µs, and the loggers made per step job or per call mostly log nothing.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const real = (): Logger => {
    child ??= parent.child(bindings);
    return child;
  };
  return new Proxy(parent, {
    get(_target, property) {
      const logger = real();
      const value: unknown = Reflect.get(logger, property, logger);
      return typeof value === 'function' ? value.bind(logger) : value;
    },
    set(_target, property, value) {
      return Reflect.set(real(), property, value);
    },
  });
}
