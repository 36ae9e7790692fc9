import type { BotMetrics } from './metrics.js';

/** The part of a DecisionGraph call's evidence the metrics read. */
export interface DgCallFacts {
  readonly endpoint: string;
  readonly status: number | null;
  readonly scope: string | null;
  readonly rateWaitMs: number;
}

/** Counts each DecisionGraph call by route and status, and the calls the rate budget held back. */
export function dgCallMetrics(metrics: BotMetrics): (evidence: DgCallFacts) => void {
  return (evidence) => {
    metrics.dgCalls.inc({ endpoint: evidence.endpoint, status: evidence.status === null ? 'none' : evidence.status });
    if (evidence.rateWaitMs > 0 && evidence.scope !== null) {
      metrics.rateBudgetWaits.inc({ scope: evidence.scope });
      metrics.rateBudgetWaitSeconds.inc({ scope: evidence.scope }, evidence.rateWaitMs / 1000);
    }
  };
}

/**
 * Wraps a Slack Web API client so that every call that fails is counted by method (`chat.postMessage`) and kind
 * (Slack's error code, `rate_limited`, `request_error`, `http_error`). Results and errors pass through unchanged.
 */
export function countSlackErrors<T extends object>(client: T, metrics: BotMetrics): T {
  const wrap = <O extends object>(target: O, path: string): O =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof prop !== 'string') return value;
        const method = path ? `${path}.${prop}` : prop;
        if (typeof value === 'function') {
          if (path === '') return value.bind(obj);
          return (...args: unknown[]) => {
            const result = value.apply(obj, args);
            if (!(result instanceof Promise)) return result;
            return result.catch((err: unknown) => {
              metrics.slackErrors.inc({ method, kind: slackErrorKind(err) });
              throw err;
            });
          };
        }
        if (isPlainObject(value)) return wrap(value, method);
        return value;
      },
    });
  return wrap(client, '');
}

function slackErrorKind(err: unknown): string {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  if (e.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string') return e.data.error.slice(0, 60);
  if (e.code === 'slack_webapi_rate_limited_error') return 'rate_limited';
  if (e.code === 'slack_webapi_request_error') return 'request_error';
  if (e.code === 'slack_webapi_http_error') return 'http_error';
  return 'other';
}

/** The Web API's method groups (`chat`, `files`, `admin.apps`) are plain objects; its other parts are left alone. */
function isPlainObject(value: unknown): value is object {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}
