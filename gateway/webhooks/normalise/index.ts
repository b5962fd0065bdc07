import type { EventSource } from '../../../lib/events/event.js';
import { normaliseHubSpot } from './hubspot.js';
import { normaliseMailchimp } from './mailchimp.js';
import type { Normaliser } from './result.js';
import { normaliseShopify } from './shopify.js';
import { normaliseSite } from './site.js';

export { HUBSPOT_MAX_BATCH, normaliseHubSpot } from './hubspot.js';
export { normaliseMailchimp } from './mailchimp.js';
export { normaliseShopify } from './shopify.js';
export { normaliseSite } from './site.js';
export type { NormaliseResult, Normaliser } from './result.js';

/** Each source's normaliser, for the endpoint `/webhooks/<source>`. */
export const NORMALISERS: Readonly<Record<EventSource, Normaliser>> = {
  hubspot: normaliseHubSpot,
  shopify: normaliseShopify,
  mailchimp: normaliseMailchimp,
  site: normaliseSite,
};
