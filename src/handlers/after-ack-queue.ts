// Work a listener does after Slack has its acknowledgement (run-service calls, Web API calls, probes) goes through
// this queue. An acknowledgement is written by the request's own callback, so it only has to wait for the event
// loop to come round; anything that keeps the loop busy delays every acknowledgement still to come. Tasks start
// from `setImmediate`, after the loop has taken in the requests that arrived meanwhile, and only a few at a time,
// so a burst of requests is acknowledged first and its follow-ups drain behind it.

export interface AfterAckQueueOptions {
  /** Tasks running at once. @defaultValue 4 */
  readonly concurrency?: number;
  /**
   * A task still running after this long gives its slot to the next one: by then it is waiting on a slow Slack,
   * DecisionGraph or Redis, not using the loop, and must not hold everyone else's answer back. @defaultValue 250
   */
  readonly slotMs?: number;
}

export interface AfterAckTaskOptions {
  /**
   * Goes ahead of the waiting tasks: a dialog must open within 3 s of the click that asked for it.
   * @defaultValue false
   */
  readonly urgent?: boolean;
}

export interface AfterAckQueue {
  /** Runs `task` once a slot is free; settles as the task does. */
  run<T>(task: () => Promise<T>, options?: AfterAckTaskOptions): Promise<T>;
  /** Tasks waiting for a slot and tasks holding one. */
  readonly size: { readonly waiting: number; readonly running: number };
}

export function createAfterAckQueue(options: AfterAckQueueOptions = {}): AfterAckQueue {
  const concurrency = Math.max(1, Math.trunc(options.concurrency ?? 4));
  const slotMs = options.slotMs ?? 250;
  const waiting: Array<() => void> = [];
  let running = 0;
  let scheduled = false;

  const pump = () => {
    scheduled = false;
    while (running < concurrency) {
      const next = waiting.shift();
      if (!next) return;
      running++;
      next();
    }
  };
  const schedule = () => {
    if (scheduled || waiting.length === 0 || running >= concurrency) return;
    scheduled = true;
    setImmediate(pump);
  };

  return {
    run<T>(task: () => Promise<T>, taskOptions: AfterAckTaskOptions = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          let held = true;
          const release = () => {
            if (!held) return;
            held = false;
            clearTimeout(timer);
            running--;
            schedule();
          };
          const timer = setTimeout(release, slotMs);
          timer.unref();
          let result: Promise<T>;
          try {
            result = task();
          } catch (err) {
            result = Promise.reject(err);
          }
          // The slot is free by the time the caller hears of the result.
          result.then(
            (value) => {
              release();
              resolve(value);
            },
            (err: unknown) => {
              release();
              reject(err);
            },
          );
        };
        if (taskOptions.urgent) waiting.unshift(start);
        else waiting.push(start);
        schedule();
      });
    },
    get size() {
      return { waiting: waiting.length, running };
    },
  };
}

/** Runs `task` through the listeners' queue when there is one, at once otherwise. */
export function afterAck<T>(
  queue: AfterAckQueue | undefined,
  task: () => Promise<T>,
  options?: AfterAckTaskOptions,
): Promise<T> {
  return queue ? queue.run(task, options) : task();
}
