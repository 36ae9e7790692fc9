import { ErrorCode } from '../errors.js';
import type { RunService } from '../jobs/run-service-port.js';
import type { RunEvent } from '../runbook/index.js';

/** How long the follower waits for a live event before it reads the log itself. @defaultValue 2000 */
export const DEFAULT_RESYNC_MS = 2000;

/**
 * A run's events in sequence order, each once: live ones from the subscription, and whatever the subscription
 * missed (events appended before it began, a lost message, a gap) read from the log. A quiet subscription is
 * checked against the log every `resyncMs`, so a lost final event cannot leave the terminal waiting forever.
 */
export class RunFollower {
  private readonly buffer = new Map<number, RunEvent>();
  private lastSeq = 0;
  private wake: (() => void) | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private closed = false;

  /**
   * `onUnavailable`: a read of the log found Redis not answering. The follower keeps reading every `resyncMs`
   * until it answers; without it, the read's error ends following.
   */
  constructor(
    private readonly service: Pick<RunService, 'get' | 'subscribe'>,
    readonly runId: string,
    private readonly resyncMs = DEFAULT_RESYNC_MS,
    private readonly onUnavailable?: () => void,
  ) {}

  /** Subscribes, then reads what the log already holds. */
  async start(): Promise<void> {
    this.unsubscribe = await this.service.subscribe(this.runId, (event) => this.offer([event]));
    await this.resync();
  }

  /** Events from elsewhere (a command's own result): taken like live ones, duplicates dropped. */
  offer(events: readonly RunEvent[]): void {
    let added = false;
    for (const event of events) {
      if (event.runId !== this.runId || event.seq <= this.lastSeq || this.buffer.has(event.seq)) continue;
      this.buffer.set(event.seq, event);
      added = true;
    }
    if (added) this.notify();
  }

  /** The next event is already here, so acting now would act on a state that is about to change. */
  hasNext(): boolean {
    return this.buffer.has(this.lastSeq + 1);
  }

  /**
   * The next event in order. Waits for it, filling gaps from the log; resolves `undefined` after `timeoutMs`
   * without one (never, when not given) or once closed.
   */
  async next(timeoutMs?: number): Promise<RunEvent | undefined> {
    const until = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    for (;;) {
      if (this.closed) return undefined;
      const ready = this.take();
      if (ready) return ready;
      if (this.buffer.size > 0) {
        // Something later arrived without what comes before it: read the log.
        await this.resync();
        const filled = this.take();
        if (filled) return filled;
      }
      const left = until - Date.now();
      if (left <= 0) return undefined;
      const woken = await this.sleep(Math.min(left, this.resyncMs));
      if (!woken) await this.resync();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.notify();
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    if (unsubscribe) await unsubscribe();
  }

  private take(): RunEvent | undefined {
    const event = this.buffer.get(this.lastSeq + 1);
    if (event === undefined) return undefined;
    this.buffer.delete(event.seq);
    this.lastSeq = event.seq;
    return event;
  }

  private async resync(): Promise<void> {
    let run: Awaited<ReturnType<RunService['get']>>;
    try {
      run = await this.service.get(this.runId);
    } catch (err) {
      if (this.onUnavailable === undefined || (err as { code?: unknown }).code !== ErrorCode.RunLogUnavailable) {
        throw err;
      }
      this.onUnavailable();
      return;
    }
    if (run) this.offer(run.events.filter((e) => e.seq > this.lastSeq));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves `true` when woken by an event, `false` after `ms`. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}
