import type { Span } from '@opentelemetry/api';
import { markSpanFailed, withStoredSpan } from '../lib/telemetry/tracing.js';
import { randomUUID } from 'node:crypto';
import type { CustomerRef, StoredEvent } from '../lib/events/event.js';
import type { ClaimedEvent, EventLog } from '../lib/events/log/types.js';
import type { Logger } from '../lib/logger.js';
import { Counter, Histogram } from '../lib/metrics.js';
import { needsCustomer, route, RoutingError, type CustomerContext, type RoutingRule } from './routing.js';

export const processingMetrics = {
  processed: new Counter('events_processed_total', 'Events processed and delivered, by type.', ['type']),
  failed: new Counter(
    'events_failed_total',
    'Processing attempts that failed, by kind (retried or dead-lettered).',
    ['kind'],
  ),
  deadLettered: new Counter('events_dead_lettered_total', 'Events dead-lettered, by type.', ['type']),
  latencySeconds: new Histogram(
    'events_processing_latency_seconds',
    'Time from receiving an event to delivering it.',
  ),
};

/** A record a webhook says changed, for the subgraphs' caches. */
export interface ChangedCustomer {
  entity: 'Customer';
  id?: string;
  email?: string;
}

/** The platform subgraphs whose cached records an event can make stale. */
export type CachingSubgraph = 'crm' | 'email' | 'commerce';

/** Changed records, by the subgraph that caches them. */
export type Invalidations = Partial<Record<CachingSubgraph, ChangedCustomer[]>>;

export interface EventProcessorOptions {
  log: EventLog;
  rules: readonly RoutingRule[];
  /** Reads a customer's context through the graph (cached by the subgraphs). Null when nobody matches. */
  customerContext(ref: CustomerRef): Promise<CustomerContext | null>;
  /** Tells the subgraphs which records changed; best effort (TTLs bound staleness if it fails). */
  invalidate(targets: Invalidations): Promise<void>;
  /**
   * Records the actions the rules ask for this event (events/actions/), before the event counts as
   * processed: a failure retries the event, and recording again is idempotent. @default none
   */
  actions?: { accept(event: StoredEvent, customer: CustomerContext | null): Promise<unknown> };
  logger: Logger;
  /** Events processed at once (each may wait on a graph read). @default 64 */
  concurrency?: number;
  /** Events claimed from the log at once. @default 256 */
  batchSize?: number;
  /** Attempts before a transient failure becomes a dead letter. @default 5 */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. @default 1000 */
  retryBaseMs?: number;
  /** How long a claimed event stays with this processor before another may take it. @default 30000 */
  visibilityMs?: number;
  /**
   * The name this processor claims events under (a Redis consumer), so an operator can tell which
   * process holds which claims. @default `processor-` and 8 random hex digits
   */
  id?: string;
}

/** Which subgraph caches what an event changed: a new order is the shop's, a property change the CRM's. */
function cachedBy(event: StoredEvent): CachingSubgraph | undefined {
  switch (event.type) {
    case 'CONTACT_CREATED':
    case 'CONTACT_UPDATED':
    case 'CONTACT_DELETED':
      return 'crm';
    case 'ORDER_PLACED':
    case 'CUSTOMER_CREATED':
      return 'commerce';
    case 'EMAIL_SUBSCRIBED':
    case 'EMAIL_UNSUBSCRIBED':
    case 'EMAIL_CLEANED':
      return 'email';
    default:
      // Form fills, page views and campaign sends change no cached record.
      return undefined;
  }
}

/** The stale records of a batch of events, one list per subgraph: one call each, not one per event. */
export function invalidationsFor(events: readonly StoredEvent[]): Invalidations {
  const out: Invalidations = {};
  for (const event of events) {
    const subgraph = cachedBy(event);
    const ref = event.customer;
    if (!subgraph || !ref) continue;
    (out[subgraph] ??= []).push({
      entity: 'Customer',
      ...(ref.id ? { id: ref.id } : {}),
      ...(ref.email ? { email: ref.email } : {}),
    });
  }
  return out;
}

/**
 * The asynchronous half of the webhook pipeline: claims events from the log's inbox and, for each,
 * invalidates the records it changed, completes the customer reference (a HubSpot event names only
 * the contact id), reads the customer's context when a routing rule needs it, routes it to
 * channels, and delivers it. Transient failures retry with backoff; a rule that cannot be evaluated,
 * or a failure past the last attempt, dead-letters the event with the reason.
 */
export class EventProcessor {
  private readonly id: string;
  private running = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: EventProcessorOptions) {
    this.id = options.id ?? `processor-${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** New events were appended: process them now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { log, logger } = this.options;
    const concurrency = this.options.concurrency ?? 64;
    const batchSize = Math.max(this.options.batchSize ?? 256, concurrency);
    // An outage of the log (Redis down, the data directory read-only) fails every poll: it is said
    // once when it starts and once when it ends, not five times a second for as long as it lasts.
    let failingSince: number | undefined;
    let failures = 0;
    while (this.running) {
      let claimed: ClaimedEvent[] = [];
      try {
        claimed = await log.claim(this.id, batchSize, this.options.visibilityMs ?? 30_000);
        if (failingSince !== undefined) {
          logger.info({ failures, forMs: Date.now() - failingSince }, 'claiming events works again');
          failingSince = undefined;
          failures = 0;
        }
      } catch (error) {
        failures += 1;
        if (failingSince === undefined) {
          failingSince = Date.now();
          logger.warn({ err: error }, 'claiming events failed; retrying until the event log answers');
        }
      }
      if (claimed.length === 0) {
        // Appends on this instance wake the loop; other instances' appends are found by polling.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 200);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeUp = undefined;
        continue;
      }
      // Before any of the batch is delivered: a subscriber reading the customer then sees fresh data.
      await this.options.invalidate(invalidationsFor(claimed)).catch((error: unknown) => {
        logger.warn(
          { err: error, events: claimed.length },
          'cache invalidation failed; cached records expire by TTL',
        );
      });
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) await this.process(claimed[next++] as ClaimedEvent);
        }),
      );
    }
  }

  /** One event, in a span of the trace of the webhook that brought it (see `IncomingEvent.trace`). */
  private process(event: ClaimedEvent): Promise<void> {
    return withStoredSpan(
      `event.process ${event.type}`,
      event.trace,
      'consumer',
      { 'event.type': event.type, 'event.source': event.source, 'event.attempt': event.attempts + 1 },
      (span) => this.processIn(event, span),
    );
  }

  private async processIn(event: ClaimedEvent, span: Span): Promise<void> {
    const { log, logger, rules } = this.options;
    try {
      let customer: CustomerContext | null = null;
      // A reference without an email (HubSpot names contacts by id) is completed: the email is the
      // key subscribers' customer fields are resolved by. Otherwise only a rule's need costs a read.
      const withoutEmail = event.customer !== null && !event.customer.email;
      if (event.customer && (withoutEmail || needsCustomer(rules, event))) {
        customer = await this.options.customerContext(event.customer);
      }
      const channels = route(rules, event, customer);
      await this.options.actions?.accept(event, customer);
      const ref = event.customer
        ? {
            ...((event.customer.id ?? customer?.id)
              ? { id: (event.customer.id ?? customer?.id) as string }
              : {}),
            ...((event.customer.email ?? customer?.email)
              ? { email: (event.customer.email ?? customer?.email) as string }
              : {}),
          }
        : null;
      const delivered = await log.complete(event.id, { channels, customer: ref });
      processingMetrics.processed.inc({ type: event.type });
      processingMetrics.latencySeconds.observe(
        (Date.parse(delivered.processedAt) - Date.parse(event.receivedAt)) / 1000,
      );
    } catch (error) {
      const attempts = event.attempts + 1;
      const final = error instanceof RoutingError || attempts >= (this.options.maxAttempts ?? 5);
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      processingMetrics.failed.inc({ kind: final ? 'dead-lettered' : 'retried' });
      markSpanFailed(span, final ? 'dead-lettered' : 'retried');
      if (final) processingMetrics.deadLettered.inc({ type: event.type });
      logger.warn(
        { eventId: event.id, type: event.type, attempts, final, reason },
        final ? 'event dead-lettered' : 'event processing failed; will retry',
      );
      const retryAt = final
        ? null
        : new Date(Date.now() + (this.options.retryBaseMs ?? 1_000) * 2 ** (attempts - 1));
      await log.fail(event.id, { reason: reason.slice(0, 500), retryAt }).catch((failure: unknown) => {
        logger.error(
          { err: failure, eventId: event.id },
          'recording a processing failure failed; the claim expires and the event is retried',
        );
      });
    }
  }
}
