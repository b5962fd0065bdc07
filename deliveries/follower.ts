import type { DeliveredEvent } from '../lib/events/event.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { SerialRunner } from './serial-runner.js';

export interface EventLogFollowerOptions {
  log: Pick<EventLog, 'read' | 'latestCursor' | 'watch'>;
  /** Where the follower last stopped (stored by `enqueue` with the messages). */
  cursor(): Promise<string | undefined>;
  /** Enqueues a page of events and stores `cursor` in the same write. */
  enqueue(events: readonly DeliveredEvent[], cursor: string): Promise<number>;
  logger: Logger;
  /** Events read at once. @default 256 */
  pageSize?: number;
  /** Wait before reading again after a failure, in ms. @default 1000 */
  retryMs?: number;
}

/**
 * Feeds processed events to the deliveries by tailing the event log's delivery log from a cursor
 * kept in the delivery store, written in the same transaction as the messages it produced. That
 * is what makes the hand-over crash-safe: a crash before the write reads the same page again, and
 * enqueueing is idempotent, so no event is lost and none is enqueued twice. On the first start it
 * begins at the log's newest event (endpoints receive events from their creation on).
 */
export class EventLogFollower {
  private cursorValue: string | undefined;
  private readonly reader = new SerialRunner(
    () => this.drain(),
    () => {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    },
  );
  private stopped = false;
  private unwatch: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: EventLogFollowerOptions) {}

  async start(): Promise<void> {
    this.cursorValue = await this.options.cursor();
    if (this.cursorValue === undefined) {
      const latest = await this.options.log.latestCursor();
      if (latest !== undefined) await this.options.enqueue([], latest);
      this.cursorValue = latest;
    }
    this.unwatch = this.options.log.watch(() => this.poke());
    this.poke();
  }

  /** Reads on until the log has nothing more; a call while reading makes it read once more after. */
  poke(): void {
    this.reader.run();
  }

  /** Resolves once every event the log had when it was called has been enqueued. */
  caughtUp(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.poke();
    return idle;
  }

  stop(): void {
    this.stopped = true;
    this.reader.stop();
    this.unwatch?.();
    clearTimeout(this.retry);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async drain(): Promise<void> {
    const pageSize = this.options.pageSize ?? 256;
    try {
      for (;;) {
        const events = await this.readPage(pageSize);
        const last = events.at(-1);
        if (!last || this.stopped) return;
        await this.options.enqueue(events, last.cursor);
        this.cursorValue = last.cursor;
        if (events.length < pageSize) return;
      }
    } catch (error) {
      this.options.logger.error({ err: error }, 'feeding events to the webhook deliveries failed; retrying');
      this.retry = setTimeout(() => this.poke(), this.options.retryMs ?? 1_000);
      this.retry.unref();
    }
  }

  private async readPage(pageSize: number): Promise<DeliveredEvent[]> {
    try {
      return await this.options.log.read(this.cursorValue, pageSize);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // A cursor this log does not know (the log was switched between SQLite and Redis): start
      // again from its newest event rather than stop delivering altogether.
      this.options.logger.warn(
        { err: error },
        'the webhook deliveries lost their place in the event log; continuing from its newest event',
      );
      this.cursorValue = await this.options.log.latestCursor();
      if (this.cursorValue !== undefined) await this.options.enqueue([], this.cursorValue);
      return [];
    }
  }
}
