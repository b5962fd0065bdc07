import type { DeliveredEvent, JsonValue } from '../lib/events/event.js';
import type { Endpoint } from './endpoint.js';

/**
 * Builds the body of the message one event becomes for one endpoint. Called once, when the
 * message is enqueued: every attempt then sends (and signs) the same bytes. The enrichment work
 * (an endpoint's GraphQL selection, resolved with its owner's permissions) plugs in here.
 */
export type PayloadBuilder = (event: DeliveredEvent, endpoint: Endpoint) => Promise<JsonValue>;

/**
 * The payload without enrichment, in the shape Standard Webhooks recommends (`type`, `timestamp`,
 * `data`): what happened, where, when and to whom by CRM id. The customer's email and the
 * personal data some events carry are left out: they need `pii:read`, which only the enrichment
 * (reading with the owner's permissions) can establish.
 */
export const basicPayload: PayloadBuilder = async (event) => ({
  type: event.type,
  timestamp: event.occurredAt,
  data: {
    id: event.id,
    type: event.type,
    source: event.source,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    processedAt: event.processedAt,
    channels: event.channels,
    customer: event.customer?.id === undefined ? null : { id: event.customer.id },
    properties: event.properties,
  },
});
