import { z } from 'zod';
import type { EventType, IncomingEvent } from '../../../lib/events/event.js';
import { toDateTime } from '../../../lib/dates.js';
import type { WebhookHeaders } from '../../../lib/webhooks/headers.js';
import {
  accepted,
  parseJson,
  zodProblems,
  type NormaliseResult,
} from '../../../lib/webhooks/normalise-result.js';

/**
 * HubSpot webhook deliveries: a JSON array of up to 100 events, one canonical event each. Contact
 * subscriptions only; any other subscription type (company, deal, merge...) is a misconfigured
 * app and is refused, so HubSpot's retries make it visible instead of events vanishing.
 */

const SUBSCRIPTIONS = {
  'contact.creation': 'CONTACT_CREATED',
  'contact.propertyChange': 'CONTACT_UPDATED',
  'contact.deletion': 'CONTACT_DELETED',
  'contact.privacyDeletion': 'CONTACT_DELETED',
} as const satisfies Record<string, EventType>;
const SUBSCRIPTION_TYPES = Object.keys(SUBSCRIPTIONS) as [
  keyof typeof SUBSCRIPTIONS,
  ...(keyof typeof SUBSCRIPTIONS)[],
];

/** At most this many events per delivery (HubSpot's documented batch size). */
export const HUBSPOT_MAX_BATCH = 100;

/**
 * Contact properties whose values say nothing about the person and may travel in `properties`.
 * Any other property's new value (email, names, phone, address, custom fields) goes to `personal`:
 * a custom property can hold anything, so personal is the default.
 */
const NON_PERSONAL_PROPERTIES = new Set([
  'lifecyclestage',
  'hs_lead_status',
  'hubspot_owner_id',
  'hs_analytics_source',
  'hs_latest_source',
  'hs_marketable_status',
  'hs_email_optout',
  'hs_persona',
  'createdate',
  'lastmodifieddate',
]);

/** 9999-12-31T23:59:59.999Z: the last instant an ISO-8601 DateTime can write. */
const MAX_EPOCH_MS = 253_402_300_799_999;

// Ids are int64 on HubSpot's side; digits in a string are accepted too, so none loses precision.
const id = z
  .union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/, 'expected digits')])
  .transform(String);

const hubSpotEventSchema = z
  .object({
    eventId: id,
    subscriptionId: id,
    portalId: id,
    objectId: id,
    occurredAt: z.number().int().positive().max(MAX_EPOCH_MS),
    subscriptionType: z.enum(SUBSCRIPTION_TYPES).optional(),
    /** What older payloads call `subscriptionType`. */
    eventType: z.enum(SUBSCRIPTION_TYPES).optional(),
    changeSource: z.string().max(200).optional(),
    propertyName: z.string().min(1).max(200).optional(),
    propertyValue: z.union([z.string(), z.number(), z.boolean()]).nullable().optional(),
  })
  .transform(({ subscriptionType, eventType, ...event }, ctx) => {
    const subscription = subscriptionType ?? eventType;
    if (subscription === undefined) {
      ctx.addIssue({ code: 'custom', path: ['subscriptionType'], message: 'required' });
      return z.NEVER;
    }
    if (subscription === 'contact.propertyChange' && event.propertyName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['propertyName'],
        message: 'required for contact.propertyChange',
      });
      return z.NEVER;
    }
    return { ...event, subscription };
  });
type HubSpotEvent = z.output<typeof hubSpotEventSchema>;

const hubSpotBatchSchema = z.array(hubSpotEventSchema).min(1).max(HUBSPOT_MAX_BATCH);

export function normaliseHubSpot(raw: Buffer, _headers: WebhookHeaders, receivedAt: Date): NormaliseResult {
  const json = parseJson(raw);
  if (!json.ok) return json.result;
  const parsed = hubSpotBatchSchema.safeParse(json.value);
  if (!parsed.success) return zodProblems(parsed.error);
  return accepted(parsed.data.map((event) => toEvent(event, receivedAt)));
}

function toEvent(event: HubSpotEvent, receivedAt: Date): IncomingEvent {
  const { subscription } = event;
  const properties: IncomingEvent['properties'] = { portalId: event.portalId };
  if (event.changeSource !== undefined) properties['changeSource'] = event.changeSource;
  let personal: IncomingEvent['personal'] = null;

  if (subscription === 'contact.propertyChange' && event.propertyName !== undefined) {
    const name = event.propertyName;
    const value =
      event.propertyValue === undefined || event.propertyValue === null ? null : String(event.propertyValue);
    properties['propertyName'] = name;
    properties['propertyValueChanged'] = true;
    if (NON_PERSONAL_PROPERTIES.has(name)) properties['propertyValue'] = value;
    else if (value !== null) personal = { [name]: value };
  }
  if (subscription === 'contact.deletion' || subscription === 'contact.privacyDeletion')
    properties['privacyDeletion'] = subscription === 'contact.privacyDeletion';

  return {
    // eventId alone is not unique (HubSpot says so); with the subscription and the instant it is.
    // All three are in the body, which both v3 and v1 sign: a replay cannot change them.
    dedupeKey: `hubspot:${event.eventId}:${event.subscriptionId}:${event.occurredAt}`,
    type: SUBSCRIPTIONS[subscription],
    source: 'hubspot',
    occurredAt: toDateTime(event.occurredAt),
    receivedAt: receivedAt.toISOString(),
    customer: { id: event.objectId },
    properties,
    personal,
  };
}
