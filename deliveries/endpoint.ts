import { z } from 'zod';
import { EVENT_TYPES, type DeliveredEvent, type EventType } from '../lib/events/event.js';

/**
 * A subscriber's endpoint: where its webhooks go, which events it wants, how fast it may be
 * called, and whether it is switched on. Times are epoch milliseconds throughout the deliveries.
 */

/** Why an endpoint is off: its owner turned it off, it answered `410 Gone`, or it failed every attempt for days. */
export const DISABLED_REASONS = ['manual', 'gone', 'failing'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

export interface Endpoint {
  /** `ep_` and 26 base32 characters. */
  id: string;
  url: string;
  description: string;
  /** Only these event types; null for every type. */
  eventTypes: EventType[] | null;
  /** Only events routed to one of these channels; null for any channel (or none). */
  channels: string[] | null;
  /** Attempts per second at most; null for no limit beyond the per-endpoint concurrency. */
  rateLimitPerSecond: number | null;
  /** The client (API key or token subject) that created it: whose permissions its payloads are read with. */
  ownerClientId: string;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  disabledAtMs: number | null;
  /** Since when every attempt has failed; null after any success. */
  failingSinceMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  /**
   * A GraphQL selection on the event (`customer { email lifetimeValue { amount } }`) resolved with
   * the owner's permissions when a message is enqueued (the enrichment); null for none. Checked
   * against the graph by the management API before it is saved.
   */
  selection: string | null;
}

/** Channel names as the routing rules write them. */
const channelSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a channel name: lower-case letters, digits and dashes');

const endpointFields = {
  url: z.string().min(1).max(2048),
  description: z.string().max(500),
  eventTypes: z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length).nullable(),
  channels: z.array(channelSchema).min(1).max(50).nullable(),
  rateLimitPerSecond: z.number().int().min(1).max(10_000).nullable(),
  selection: z.string().trim().min(1).max(4_000).nullable(),
};

/** What creating an endpoint takes; the URL is checked again by the SSRF guard. */
export const endpointInputSchema = z
  .object({
    ...endpointFields,
    description: endpointFields.description.default(''),
    eventTypes: endpointFields.eventTypes.default(null),
    channels: endpointFields.channels.default(null),
    rateLimitPerSecond: endpointFields.rateLimitPerSecond.default(null),
    selection: endpointFields.selection.default(null),
    ownerClientId: z.string().min(1).max(200),
  })
  .strict();
export type EndpointInput = z.input<typeof endpointInputSchema>;

/** What updating an endpoint may change: any of the fields above but its owner. */
export const endpointChangesSchema = z.object(endpointFields).partial().strict();
export type EndpointChanges = z.output<typeof endpointChangesSchema>;

/** Whether `event` is one `endpoint` subscribed to (both filters, when set, must match). */
export function endpointWants(endpoint: Endpoint, event: DeliveredEvent): boolean {
  if (endpoint.eventTypes !== null && !endpoint.eventTypes.includes(event.type)) return false;
  if (endpoint.channels !== null && !event.channels.some((channel) => endpoint.channels?.includes(channel)))
    return false;
  return true;
}
