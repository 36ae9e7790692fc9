import { performance } from 'node:perf_hooks';
import type { RedisOptions } from 'ioredis';
import type { CommandOutcome, RunService } from '../jobs/run-service-port.js';
import type { Style } from '../projections/terminal/style.js';
import { formatDuration } from '../runbook/time-format.js';
import type { LogGate } from './log-gate.js';
import { type RedisWatch, watchRedis } from './redis-watch.js';

/**
 * Logs stay held this long after Redis is back: the job layer then reports what the outage cut off (a step job
 * retried, a lock lost), which the line about the outage already says.
 */
const SETTLE_MS = 3000;

export interface RedisOutageOptions {
  readonly url: string;
  /** TLS and Sentinel options beside the URL. @defaultValue `{}` */
  readonly connection?: RedisOptions;
  /** Redis as people name it: `host:port`. */
  readonly where: string;
  readonly print: (line: string) => void;
  readonly style: Style;
  /** Held shut while Redis is away, so its reconnect warnings do not bury the terminal. */
  readonly logs?: LogGate;
  /** Called when Redis is back, to pick up at once whatever the outage left behind. */
  readonly onBack?: () => void;
}

/**
 * How the terminal rides out a Redis outage: one line when Redis stops answering, one when it is back (with how
 * long it was away), the job layer's warnings dropped in between (`LOG_LEVEL` shows them). Following and commands
 * wait on it.
 */
export function rideOutRedisOutages(o: RedisOutageOptions): RedisWatch {
  let since = 0;
  let settling: NodeJS.Timeout | undefined;
  return watchRedis({
    url: o.url,
    ...(o.connection ? { connection: o.connection } : {}),
    onDown() {
      since = performance.now();
      clearTimeout(settling);
      o.logs?.hold();
      o.print(
        o.style.yellow(
          `Redis at ${o.where} is not answering; waiting for it. The run is kept there and goes on once it is back ` +
            '(Ctrl-C leaves it).',
        ),
      );
    },
    onUp() {
      const away = formatDuration(performance.now() - since);
      o.print(o.style.green(`Redis is back after ${away}; following the run again.`));
      settling = setTimeout(() => o.logs?.release(), SETTLE_MS);
      settling.unref();
      o.onBack?.();
    },
  });
}

/**
 * The run service with its commands sent again once Redis is back, when one could not reach it: the answer was
 * given, and the person should not have to give it again. A command that did reach Redis before it went is
 * refused the second time as already done, and the run's log says what happened.
 */
export function waitingOutOutages(service: RunService, redis: RedisWatch, signal: AbortSignal | undefined): RunService {
  const again =
    <A extends unknown[]>(command: (...args: A) => Promise<CommandOutcome>) =>
    async (...args: A): Promise<CommandOutcome> => {
      for (;;) {
        const outcome = await command(...args);
        if (outcome.ok || outcome.code !== 'unavailable' || redis.available || signal?.aborted) return outcome;
        await redis.whenAvailable(signal);
      }
    };
  return {
    start: (req) => service.start(req),
    decide: again((runId, cmd) => service.decide(runId, cmd)),
    approve: again((runId, cmd) => service.approve(runId, cmd)),
    reject: again((runId, cmd) => service.reject(runId, cmd)),
    manualDone: again((runId, cmd) => service.manualDone(runId, cmd)),
    retry: again((runId, cmd) => service.retry(runId, cmd)),
    skip: again((runId, cmd) => service.skip(runId, cmd)),
    abort: again((runId, cmd) => service.abort(runId, cmd)),
    get: (runId) => service.get(runId),
    listActive: () => service.listActive(),
    subscribe: (runId, onEvent, options) => service.subscribe(runId, onEvent, options),
  };
}
