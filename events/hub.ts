import type { DeliveredEvent, EventType } from '../lib/events/event.js';
import type { EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { Counter } from '../lib/metrics.js';

export const hubMetrics = {
  dispatched: new Counter('events_dispatched_total', 'Delivered events handed to local subscribers.'),
  dropped: new Counter(
    'subscriptions_closed_slow_total',
    'Subscriptions closed because they fell too far behind.',
  ),
};

export interface EventFilter {
  types?: readonly EventType[];
  channel?: string;
  /** Matches the event's CRM id, or its email when the subscription resolved this id's email. */
  customerId?: string;
  customerEmail?: string;
}

export function matches(event: DeliveredEvent, filter: EventFilter): boolean {
  if (filter.types && !filter.types.includes(event.type)) return false;
  if (filter.channel && !event.channels.includes(filter.channel)) return false;
  if (filter.customerId) {
    const byId = event.customer?.id === filter.customerId;
    const byEmail = filter.customerEmail !== undefined && event.customer?.email === filter.customerEmail;
    if (!byId && !byEmail) return false;
  }
  return true;
}

/**
 * Events a subscriber may hold before it is closed as too slow (it can resume with `after`):
 * ten seconds at 100 events/s, about 1 MB, which bounds what a client that stopped reading costs.
 */
const MAX_BUFFERED = 1_000;

/** Thrown to a subscriber's reader once it fell more than MAX_BUFFERED events behind. */
export class SubscriberTooSlow extends Error {
  constructor() {
    super(
      'This subscription fell too far behind and was closed; resume it with `after` set to the last cursor received.',
    );
  }
}

class Subscriber {
  private readonly buffer: DeliveredEvent[] = [];
  private wake: (() => void) | undefined;
  closed: Error | null | undefined;

  push(event: DeliveredEvent): void {
    if (this.closed !== undefined) return;
    if (this.buffer.length >= MAX_BUFFERED) {
      hubMetrics.dropped.inc();
      // Drop the backlog now: the reader may be stuck on a write that never finishes.
      this.buffer.length = 0;
      this.close(new SubscriberTooSlow());
      return;
    }
    this.buffer.push(event);
    this.wake?.();
  }

  close(error: Error | null): void {
    if (this.closed !== undefined) return;
    this.closed = error;
    this.wake?.();
  }

  /** The next buffered event, waiting for one; undefined once closed. */
  async next(): Promise<DeliveredEvent | undefined> {
    for (;;) {
      const event = this.buffer.shift();
      if (event) return event;
      if (this.closed !== undefined) {
        if (this.closed) throw this.closed;
        return undefined;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

/**
 * One reader of the delivery log per gateway process, fanning delivered events out to its
 * subscribers. A subscriber resuming `after` a cursor starts buffering live events before it reads
 * the backlog, and skips live events the backlog already gave it: no gap, no repeat at the seam.
 * With the distributed log, every gateway's hub reads every delivered event, so each subscriber on
 * each instance gets each matching event once.
 */
export class EventHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly internal = new Set<Subscriber>();
  private cursor: string | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.cursor = await this.log.latestCursor();
    this.unwatch = this.log.watch(() => this.pump());
    // A safety net for a missed notification: read again every second.
    this.timer = setInterval(() => this.pump(), 1_000);
    this.timer.unref();
  }

  private pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        for (;;) {
          const rows = await this.log.read(this.cursor, 500);
          for (const event of rows) {
            this.cursor = event.cursor;
            for (const subscriber of this.subscribers) subscriber.push(event);
            hubMetrics.dispatched.inc({}, this.subscribers.size);
          }
          if (rows.length < 500) break;
        }
      } while (this.again);
    })()
      .catch((error: unknown) =>
        this.logger.warn({ err: error }, 'reading the delivery log failed; retrying'),
      )
      .finally(() => {
        this.pumping = undefined;
      });
  }

  /**
   * Matching delivered events: with `after`, every one since that cursor, then live ones;
   * without, live ones from now. Ends when `signal` aborts.
   */
  async *events(
    filter: EventFilter,
    after: string | undefined,
    signal: AbortSignal,
    /** The process's own follower (health figures), not a client: left out of `subscriberCount`. */
    options: { internal?: boolean } = {},
  ): AsyncGenerator<DeliveredEvent> {
    const subscriber = new Subscriber();
    this.subscribers.add(subscriber);
    if (options.internal) this.internal.add(subscriber);
    const onAbort = () => subscriber.close(null);
    signal.addEventListener('abort', onAbort);
    try {
      const seen = new Set<string>();
      if (after !== undefined) {
        let position: string = after;
        for (;;) {
          const rows = await this.log.read(position, 500, filter.types ? { types: filter.types } : undefined);
          for (const event of rows) {
            position = event.cursor;
            seen.add(event.id);
            if (matches(event, filter)) yield event;
          }
          if (rows.length < 500) break;
        }
      }
      for (;;) {
        const event = await subscriber.next();
        if (!event) return;
        if (seen.size > 0) {
          if (seen.has(event.id)) continue;
          // Buffered events come in delivery order: past the first new one, none is a repeat.
          seen.clear();
        }
        if (matches(event, filter)) yield event;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.subscribers.delete(subscriber);
      this.internal.delete(subscriber);
    }
  }

  /** Clients' subscriptions (the `subscribers` gauge), not the process's own followers. */
  get subscriberCount(): number {
    return this.subscribers.size - this.internal.size;
  }

  stop(): void {
    this.unwatch?.();
    if (this.timer) clearInterval(this.timer);
    for (const subscriber of this.subscribers) subscriber.close(null);
  }
}
