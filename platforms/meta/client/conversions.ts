import { z } from 'zod';
import { isDecimal, type Money } from '../../../lib/money.js';
import type { RequestContext } from '../../../lib/request-context.js';
import type { UpstreamClient } from '../../../lib/upstream/client.js';
import type { RowRejected, RowResult } from '../../../lib/upstream/writes.js';
import { batchesOf, batchSize } from './batches.js';
import { hashedUserData, type CustomerIdentity } from './identity.js';
import { CONVERSIONS_ENDPOINT } from './limits.js';
import { conversionsResponse } from './schemas.js';
import type { PhoneOptions } from './hashing.js';

/**
 * The Conversions API (`POST /{pixel-id}/events`): server events such as `Purchase` and `Lead`,
 * with the customer's details normalised and SHA-256 hashed on the way out, up to 1,000 per
 * request. Meta refuses a whole request for one bad event, so each event is checked here first
 * (name, id, time within Meta's 7 days, something to match the customer on) and one that would be
 * refused is answered as a rejected row, never sent, and never sinks the others.
 *
 * Idempotent through `event_id`: Meta keeps one event per `event_name` + `event_id` within 48
 * hours, so a request that failed, timed out or is replayed after a crash can be sent again whole
 * without counting anything twice. That is why every event must carry an id (its row key), and why
 * the client retries these POSTs like reads. They run at background priority through the
 * connector's throttle (the app's budget) and breaker.
 */

export const MAX_EVENTS_PER_REQUEST = 1_000;
/** Meta takes events up to 7 days old, measured when they arrive: a minute's margin for the trip. */
const MAX_AGE_MS = 7 * 86_400_000 - 60_000;
/** A little clock skew ahead of now is forgiven; events from the future are a caller's bug. */
const FUTURE_SKEW_MS = 60_000;

export const ACTION_SOURCES = [
  'email',
  'website',
  'app',
  'phone_call',
  'chat',
  'physical_store',
  'system_generated',
  'business_messaging',
  'other',
] as const;
export type ActionSource = (typeof ACTION_SOURCES)[number];

/** One server event, in the graph's conventions; `user_data` is built and hashed from `customer`. */
export interface ConversionEvent {
  /** A standard event (`Purchase`, `Lead`, `CompleteRegistration`, ...) or a custom one. */
  name: string;
  /** When it happened (Meta's `event_time`): no more than 7 days before it is sent. */
  time: Date;
  /** Our id for the event, the one the pixel sends as `eventID`: Meta keeps one per name and id. */
  id: string;
  /** Where it happened: `website`, `system_generated` (an order from the shop's backend), ... */
  actionSource: ActionSource;
  /** The page it happened on; Meta wants it (and `client.userAgent`) for website events. */
  sourceUrl?: string;
  customer: CustomerIdentity;
  /** What the browser would tell the pixel, sent as is (never hashed). */
  client?: { ipAddress?: string; userAgent?: string; fbc?: string; fbp?: string };
  /** The purchase's value: `Purchase` events need it. */
  value?: Money;
  orderId?: string;
  contentIds?: readonly string[];
}

export interface SendEventsOptions {
  /** Events per request, 1..1,000. @default 1000 (Meta's maximum: fewest calls) */
  batchSize?: number;
  /** Sends to Events Manager's Test Events tab instead of the pixel's data. @default none */
  testEventCode?: string;
  /** For customer phone numbers written without a country code. @default none */
  phone?: PhoneOptions;
  /** Called after each acknowledged request, in order (a caller may checkpoint there). */
  onBatch?: (batch: { index: number; events: number; received: number }) => void;
}

/**
 * Why the client kept an event back (Meta would have refused its whole request): the code of a
 * rejected row. None is worth sending again as it is.
 */
export type EventRejection =
  'INVALID_EVENT' | 'EVENT_TOO_OLD' | 'EVENT_IN_FUTURE' | 'PURCHASE_WITHOUT_VALUE' | 'NOTHING_TO_MATCH';

export interface SendEventsResult {
  /**
   * Each event in the order given, keyed by its id: `accepted` (`upserted`: Meta keeps it, or
   * drops it as a duplicate of one it has, and does not say which) once its request was
   * acknowledged, or `rejected` before sending.
   */
  rows: RowResult[];
  /** Events Meta acknowledged (`events_received`, over every request). */
  received: number;
  /** Requests made: ceil(events sent / batchSize). */
  calls: number;
  /** Meta's warnings about events it accepted (`messages`). */
  messages: string[];
  /** Meta's trace id of each request, for a support ticket. */
  traceIds: string[];
}

const eventInput = z.object({
  name: z.string().min(1, 'an event name is required').max(256),
  time: z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a real time'),
  id: z.string().min(1, 'an event id is required (Meta deduplicates on it)').max(256),
  actionSource: z.enum(ACTION_SOURCES),
  sourceUrl: z.url().optional(),
  value: z
    .object({
      amount: z
        .string()
        .refine((a) => isDecimal(a) && !a.trim().startsWith('-'), 'must be a non-negative decimal'),
      currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code'),
    })
    .optional(),
  orderId: z.string().min(1).max(256).optional(),
  contentIds: z.array(z.string().min(1)).optional(),
});

interface ServerEvent {
  event_name: string;
  event_time: number;
  event_id: string;
  action_source: ActionSource;
  event_source_url?: string;
  user_data: Record<string, string>;
  custom_data?: Record<string, unknown>;
}

const rejected = (key: string, code: EventRejection, reason: string): RowRejected => ({
  status: 'rejected',
  key,
  code,
  reason,
  retryable: false,
});

/** The wire event, or the rejected row Meta would have refused it as. */
function serverEventOf(event: ConversionEvent, now: number, phone: PhoneOptions): ServerEvent | RowRejected {
  const key = typeof event.id === 'string' ? event.id : '';
  const checked = eventInput.safeParse(event);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return rejected(
      key,
      'INVALID_EVENT',
      `${issue?.path.join('.') || 'event'}: ${issue?.message ?? 'not a valid event'}`,
    );
  }
  const time = event.time.getTime();
  if (time < now - MAX_AGE_MS)
    return rejected(key, 'EVENT_TOO_OLD', 'time: more than 7 days ago; Meta takes events up to 7 days old');
  if (time > now + FUTURE_SKEW_MS) return rejected(key, 'EVENT_IN_FUTURE', 'time: in the future');
  if (event.name === 'Purchase' && !event.value)
    return rejected(key, 'PURCHASE_WITHOUT_VALUE', 'value: a Purchase needs its value and currency');
  const { client } = event;
  const userData: Record<string, string> = {
    ...hashedUserData(event.customer, phone),
    ...(client?.ipAddress ? { client_ip_address: client.ipAddress } : {}),
    ...(client?.userAgent ? { client_user_agent: client.userAgent } : {}),
    ...(client?.fbc ? { fbc: client.fbc } : {}),
    ...(client?.fbp ? { fbp: client.fbp } : {}),
  };
  if (Object.keys(userData).length === 0)
    return rejected(
      key,
      'NOTHING_TO_MATCH',
      'customer: nothing Meta can match on (no valid email, phone, name, external id or browser ids)',
    );
  const customData = {
    ...(event.value ? { value: Number(event.value.amount), currency: event.value.currency } : {}),
    ...(event.orderId ? { order_id: event.orderId } : {}),
    ...(event.contentIds ? { content_ids: [...event.contentIds] } : {}),
  };
  return {
    event_name: event.name,
    event_time: Math.floor(time / 1000),
    event_id: event.id,
    action_source: event.actionSource,
    ...(event.sourceUrl ? { event_source_url: event.sourceUrl } : {}),
    user_data: userData,
    ...(Object.keys(customData).length > 0 ? { custom_data: customData } : {}),
  };
}

const PIXEL_ID = /^\d{1,20}$/;

export class MetaConversions {
  constructor(
    private readonly http: UpstreamClient,
    /** The clock events are checked against (Meta's 7 days). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Sends `events` to the pixel (dataset) `pixelId` in requests of `batchSize`, one after another.
   * A request Meta refuses throws its UpstreamError; the requests before it were acknowledged (and
   * `onBatch` said so), and sending everything again is safe (see the module comment).
   */
  async sendEvents(
    ctx: RequestContext,
    pixelId: string,
    events: readonly ConversionEvent[],
    options: SendEventsOptions = {},
  ): Promise<SendEventsResult> {
    if (!PIXEL_ID.test(pixelId)) throw new RangeError(`pixelId must be Meta's numeric id, got ${pixelId}`);
    const size = batchSize(options.batchSize, MAX_EVENTS_PER_REQUEST, 'batchSize');
    const now = this.now();
    // Each event's row, in the order given: rejected now, or accepted once its batch is.
    const rows: (RowResult | undefined)[] = [];
    const wire: { at: number; event: ServerEvent }[] = [];
    for (const [at, event] of events.entries()) {
      const built = serverEventOf(event, now, options.phone ?? {});
      if ('status' in built) rows[at] = built;
      else wire.push({ at, event: built });
    }
    const result = { received: 0, calls: 0, messages: [] as string[], traceIds: [] as string[] };
    for (const [index, batch] of batchesOf(wire, size).entries()) {
      const answer = await this.http.json(
        ctx,
        {
          method: 'POST',
          endpoint: CONVERSIONS_ENDPOINT,
          path: `/${pixelId}/events`,
          body: {
            data: batch.map((b) => b.event),
            ...(options.testEventCode ? { test_event_code: options.testEventCode } : {}),
          },
          // Safe to repeat: Meta deduplicates on event_name + event_id.
          idempotent: true,
          priority: 'background',
        },
        conversionsResponse,
      );
      for (const { at, event } of batch)
        rows[at] = { status: 'accepted', key: event.event_id, change: 'upserted' };
      result.calls += 1;
      result.received += answer.events_received;
      result.messages.push(...answer.messages);
      if (answer.fbtrace_id) result.traceIds.push(answer.fbtrace_id);
      options.onBatch?.({ index, events: batch.length, received: answer.events_received });
    }
    return { rows: rows.filter((row): row is RowResult => row !== undefined), ...result };
  }
}
