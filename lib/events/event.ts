import { z } from 'zod';
import { SOURCE_EVENT_TYPES } from '../__generated__/vocabulary.js';

/**
 * The one shape every platform's webhook becomes (Segment-like): what happened, where it came
 * from, when, to whom, and the details. Platform names and payloads stay in the normalisers.
 */
export const EVENT_TYPES = [
  // What the webhook sources' normalisers produce, each declared by its source (`becomes`).
  ...SOURCE_EVENT_TYPES,
  // Raised by the webhook deliveries themselves (source `deliveries`), for monitoring to alert on.
  'WEBHOOK_ATTEMPTS_EXHAUSTED',
  'WEBHOOK_ENDPOINT_DISABLED',
  // Raised by the batch syncs at the end of a run (source `syncs`), for subscriptions and alerts.
  'SYNC_SUCCEEDED',
  'SYNC_FAILED',
  'SYNC_ROWS_REJECTED',
  // Raised by the alert monitor through an `events` channel (source `monitoring`), for endpoints.
  'ALERT_FIRED',
  'ALERT_RESOLVED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * A webhook source's name (`/webhooks/<name>`): platforms/registry.ts lists the sources, and the
 * ingest stores events only from those; lib sits below the registry and names none.
 */
export const eventSourceSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/);
export type EventSource = string;

/** JSON values only: what `properties` may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

/** Who the event is about, by CRM id and/or email (either may be absent, not both). */
export const customerRefSchema = z
  .object({ id: z.string().min(1).optional(), email: z.string().min(3).max(320).optional() })
  .refine(
    (ref) => ref.id !== undefined || ref.email !== undefined,
    'a customer reference needs an id or an email',
  );
export type CustomerRef = z.output<typeof customerRefSchema>;

/** An event as a normaliser produces it, before the log gives it a place. */
export const incomingEventSchema = z.object({
  /** Stable across redeliveries: the platform's own id, so a redelivery is stored once. */
  dedupeKey: z.string().min(1).max(512),
  type: z.enum(EVENT_TYPES),
  source: eventSourceSchema,
  /** When it happened on the platform (ISO-8601 UTC). */
  occurredAt: z.iso.datetime(),
  /** When the gateway received it (ISO-8601 UTC). */
  receivedAt: z.iso.datetime(),
  customer: customerRefSchema.nullable(),
  /** Details without personal data (amounts, ids, URLs, property names). */
  properties: z.record(z.string(), json),
  /** Personal data the event carried (form fields): kept apart so it can need `pii:read`. */
  personal: z.record(z.string(), z.string()).nullable(),
  /**
   * The W3C trace context of the webhook that brought it, when tracing is on: the processor's and
   * the deliveries' spans join that trace. Never shown in the graph.
   */
  trace: z
    .object({
      traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/),
      tracestate: z.string().max(512).optional(),
    })
    .optional(),
});
export type IncomingEvent = z.output<typeof incomingEventSchema>;

/** An event in the log: the incoming event, its id and its place. */
export interface StoredEvent extends IncomingEvent {
  /** Unique id given by the log. */
  id: string;
}

/** An event after processing: routed to channels, ready for subscribers, with its delivery cursor. */
export interface DeliveredEvent extends StoredEvent {
  /** Opaque, ordered position in the delivery log: `after: cursor` resumes just after it. */
  cursor: string;
  /** Named channels the routing rules sent it to. */
  channels: string[];
  /** When processing finished (ISO-8601 UTC). */
  processedAt: string;
}
