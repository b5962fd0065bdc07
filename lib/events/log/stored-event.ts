import type { CustomerRef, DeliveredEvent, IncomingEvent } from '../event.js';

/**
 * How both logs keep an event's body: JSON of exactly the canonical fields (never whatever else
 * the caller's object carried). Reading it back is a plain `JSON.parse`: only `append` writes
 * these bodies, from values already checked against `incomingEventSchema` at the webhook edge,
 * and validating every row again would make `read` pay for a check that cannot fail.
 */
export function encodeEvent(event: IncomingEvent): string {
  const body: IncomingEvent = {
    dedupeKey: event.dedupeKey,
    type: event.type,
    source: event.source,
    occurredAt: event.occurredAt,
    receivedAt: event.receivedAt,
    customer: event.customer,
    properties: event.properties,
    personal: event.personal,
    ...(event.trace ? { trace: event.trace } : {}),
  };
  return JSON.stringify(body);
}

export function decodeEvent(json: string): IncomingEvent {
  return JSON.parse(json) as IncomingEvent;
}

export function encodeChannels(channels: readonly string[]): string {
  return JSON.stringify(channels);
}

export function decodeChannels(json: string): string[] {
  return JSON.parse(json) as string[];
}

/** The customer reference a processor completed, as stored beside the body ('' when unchanged). */
export function encodeCustomer(customer: CustomerRef | null | undefined): string {
  return customer === undefined ? '' : JSON.stringify(customer);
}

export function deliveredEvent(
  id: string,
  body: string,
  delivery: { cursor: string; channels: string[]; processedAt: string; customer?: string },
): DeliveredEvent {
  const { customer, ...place } = delivery;
  const event = decodeEvent(body);
  if (customer) event.customer = JSON.parse(customer) as CustomerRef | null;
  return { ...event, id, ...place };
}
