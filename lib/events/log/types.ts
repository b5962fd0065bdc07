import type { CustomerRef, DeliveredEvent, EventType, IncomingEvent, StoredEvent } from '../event.js';

/**
 * The durable event log: one interface, two implementations (embedded SQLite, distributed Redis
 * Streams), both held to one contract test suite.
 *
 * It has three parts:
 * - the **inbox**: events as received, appended before a webhook is acknowledged, deduplicated on
 *   `dedupeKey`; a work queue for the processors (each event claimed by one processor at a time);
 * - the **delivery log**: processed events in the order processing finished, each with a cursor
 *   (monotonically ordered); what queries and subscriptions read;
 * - **dead letters**: events whose processing failed for good, with the reason, until replayed.
 *
 * Moving an event from the inbox to the delivery log is atomic, so a crash never loses it and
 * never delivers it twice.
 */
export interface EventLog {
  /** Which implementation: for health and metrics. */
  readonly kind: 'sqlite' | 'redis';

  /**
   * Stores events durably before returning, all or none, skipping those whose `dedupeKey` was
   * already stored (a redelivery). Throws when the events could not be stored; the caller must
   * then not acknowledge them.
   */
  append(events: readonly IncomingEvent[]): Promise<{ stored: StoredEvent[]; duplicates: number }>;

  /**
   * Hands up to `max` inbox events that are due (never claimed, or whose claim expired after
   * `visibilityMs`, or whose retry time came) to one processor. An event claimed by a processor
   * that dies becomes due again after `visibilityMs`.
   */
  claim(processor: string, max: number, visibilityMs: number): Promise<ClaimedEvent[]>;

  /**
   * Processing succeeded: moves the event to the delivery log with its channels, atomically.
   * `customer`, when given, replaces the event's customer reference in the delivered event (the
   * processor completes a reference that named only an id or only an email).
   */
  complete(id: string, outcome: DeliveryOutcome): Promise<DeliveredEvent>;

  /** Processing failed: due again at `retryAt`, or dead-lettered with the reason when `retryAt` is null. */
  fail(id: string, failure: { reason: string; retryAt: Date | null }): Promise<void>;

  /** Dead letters, oldest first. */
  deadLetters(limit: number): Promise<DeadLetter[]>;

  /** Puts dead letters (all of them when `ids` is absent) back in the inbox, due now; returns how many. */
  replay(ids?: readonly string[]): Promise<number>;

  /** Delivered events after `after` (from the start when undefined), in cursor order. */
  read(
    after: string | undefined,
    limit: number,
    filter?: { types?: readonly EventType[] },
  ): Promise<DeliveredEvent[]>;

  /** The cursor of the newest delivered event, or undefined when none. */
  latestCursor(): Promise<string | undefined>;

  /**
   * Calls `onDelivered` after new events reach the delivery log (from any process sharing the
   * log, for the distributed implementation). A hint to read again, not the events themselves:
   * readers follow with `read(after)`, which is what makes resumption gap-free.
   */
  watch(onDelivered: () => void): () => void;

  /** Deletes delivered events older than `maxAgeMs`, and the oldest beyond `maxEvents`; returns how many. */
  prune(retention: { maxAgeMs: number; maxEvents: number }): Promise<number>;

  /** Counts for monitoring. */
  stats(): Promise<EventLogStats>;

  close(): Promise<void>;
}

export interface DeliveryOutcome {
  channels: readonly string[];
  customer?: CustomerRef | null;
}

export interface ClaimedEvent extends StoredEvent {
  /** Processing attempts before this one. */
  attempts: number;
}

export interface DeadLetter extends StoredEvent {
  reason: string;
  attempts: number;
  failedAt: string;
}

export interface EventLogStats {
  /** Inbox events not yet delivered or dead-lettered. */
  pending: number;
  /** Age of the oldest pending event, in ms (0 when none): the processing lag. */
  oldestPendingMs: number;
  delivered: number;
  deadLetters: number;
}
