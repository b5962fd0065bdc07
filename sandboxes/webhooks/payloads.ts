import { randomUUID } from 'node:crypto';
import {
  signHubSpotV1,
  signHubSpotV3,
  signShopify,
  signStandardWebhook,
  withMailchimpSecret,
} from '../../lib/webhooks/sign.js';
import { DEMO_CREDENTIALS } from '../demo-credentials.js';
import { orderJson } from '../shopify/resources.js';
import { FIRST_NAMES, PRODUCTS } from '../world/names.js';
import type { Random } from '../world/random.js';
import { randomBasket, type CrmContact, type Customer, type Order, type World } from '../world/world.js';
import type { WebhookSecrets } from './secrets.js';

/**
 * Realistic webhooks drawn from the seeded world, as each platform would send them: its path on
 * the gateway, its headers (signatures included) and its body format. A platform signs every
 * delivery attempt afresh (new timestamp; HubSpot also counts `attemptNumber` in the body), so a
 * webhook is a recipe for an attempt rather than fixed bytes.
 */

export const WEBHOOK_KINDS = ['form-fill', 'page-view', 'order', 'subscribe', 'contact-change'] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

export type WebhookSource = keyof WebhookSecrets;

/** How often each kind comes up when the emitter picks one: page views dominate, as on a real site. */
export const KIND_WEIGHTS: Readonly<Record<WebhookKind, number>> = {
  'page-view': 35,
  'form-fill': 20,
  order: 20,
  'contact-change': 15,
  subscribe: 10,
};

export interface WebhookAttempt {
  headers: Record<string, string>;
  body: string;
}

export interface OutgoingWebhook {
  kind: WebhookKind;
  source: WebhookSource;
  /** The gateway URL it is posted to (`…/webhooks/mailchimp?secret=…`). */
  url: string;
  /** The signed request for one attempt (0 is the first delivery). */
  attempt(number: number, now: Date): WebhookAttempt;
}

export interface WebhookContext {
  world: World;
  random: Random;
  secrets: WebhookSecrets;
  /** Where the gateway listens (`http://localhost:4000`); HubSpot signs the full URI it calls. */
  gatewayOrigin: string;
  /** Counts webhooks built by this emitter: ids and order numbers stay unique within a run. */
  sequence: number;
}

/** The demo company's website: `.example` is reserved, so no link ever leaves the machine. */
const SITE_ORIGIN = 'https://www.demo-outdoor.example';
const SITE_USER_AGENT = 'demo-outdoor-site/1.0 (standard-webhooks)';
const HUBSPOT_APP_ID = 1_160_452;
/** One HubSpot subscription per subscribed-to property, as an app configures them. */
const HUBSPOT_SUBSCRIPTIONS: Record<string, number> = {
  lifecyclestage: 25,
  hs_lead_status: 26,
  firstname: 27,
  phone: 28,
};
const LIFECYCLE_STAGES: readonly CrmContact['lifecycleStage'][] = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
];
const LEAD_STATUSES = ['NEW', 'OPEN', 'IN_PROGRESS', 'OPEN_DEAL', 'CONNECTED', 'ATTEMPTED_TO_CONTACT'];
const FORMS = [
  { formId: 'newsletter-signup', page: '/newsletter', fields: ['email', 'firstname'] },
  { formId: 'contact-us', page: '/contact', fields: ['email', 'firstname', 'lastname', 'phone', 'message'] },
  {
    formId: 'trail-guide-download',
    page: '/guides/trail-running',
    fields: ['email', 'firstname', 'lastname'],
  },
] as const;
const MESSAGES = [
  'Do you ship to Canada?',
  'Is the rain shell available in XL?',
  'I would like to ask about a team order.',
];
const REFERRERS = ['https://www.google.com/', 'https://l.facebook.com/', 'https://www.instagram.com/', ''];

export function buildWebhook(kind: WebhookKind, context: WebhookContext): OutgoingWebhook {
  switch (kind) {
    case 'form-fill':
      return formFill(context);
    case 'page-view':
      return pageView(context);
    case 'order':
      return order(context);
    case 'subscribe':
      return subscribe(context);
    case 'contact-change':
      return contactChange(context);
  }
}

function anyCustomer({ world, random }: WebhookContext, where?: (customer: Customer) => boolean): Customer {
  const candidates = where ? world.customers.filter(where) : world.customers;
  return random.pick(candidates.length > 0 ? candidates : world.customers);
}

/**
 * UTM parameters of a campaign of the world, the way its ads and emails tag links, with the
 * probability `tagged` (untagged visits come from bookmarks and search). @default tagged 0.6
 */
function campaignQuery({ world, random }: WebhookContext, tagged = 0.6): string {
  if (!random.chance(tagged) || world.campaigns.length === 0) return '';
  const { key } = random.pick(world.campaigns);
  const [source, medium] = random.chance(0.6) ? ['facebook', 'paid_social'] : ['mailchimp', 'email'];
  return `?utm_source=${source}&utm_medium=${medium}&utm_campaign=${key}&utm_content=${random.pick(['hero', 'carousel', 'cta'])}`;
}

/** A message of the company's site, signed with Standard Webhooks; `webhook-id` is kept across retries. */
function siteWebhook(kind: WebhookKind, context: WebhookContext, message: unknown): OutgoingWebhook {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify(message);
  return {
    kind,
    source: 'site',
    url: `${context.gatewayOrigin}/webhooks/site`,
    attempt: (_number, now) => {
      const timestamp = Math.floor(now.getTime() / 1000);
      return {
        headers: {
          'content-type': 'application/json',
          'user-agent': SITE_USER_AGENT,
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signStandardWebhook({ secret: context.secrets.site, id, timestamp, body }),
        },
        body,
      };
    },
  };
}

function formFill(context: WebhookContext): OutgoingWebhook {
  const { random } = context;
  const { person } = anyCustomer(context);
  const form = random.pick(FORMS);
  const values: Record<string, string> = {
    email: person.email,
    firstname: person.firstName,
    lastname: person.lastName,
    phone: person.phone,
    message: random.pick(MESSAGES),
  };
  return siteWebhook('form-fill', context, {
    type: 'form.submitted',
    timestamp: new Date().toISOString(),
    data: {
      formId: form.formId,
      pageUrl: `${SITE_ORIGIN}${form.page}${campaignQuery(context)}`,
      fields: form.fields.map((name) => ({ name, value: values[name] ?? '' })),
    },
  });
}

function pageView(context: WebhookContext): OutgoingWebhook {
  const { random } = context;
  const product = random.pick(PRODUCTS);
  const path = random.chance(0.7)
    ? `/products/${product}`
    : random.pick(['/', '/collections/new', '/journal']);
  const known = random.chance(0.4) ? anyCustomer(context).person.email : undefined;
  const title = path.startsWith('/products/')
    ? `${product.replace(/-/g, ' ')} | Demo Outdoor Co`
    : 'Demo Outdoor Co';
  return siteWebhook('page-view', context, {
    type: 'page.viewed',
    timestamp: new Date().toISOString(),
    data: {
      url: `${SITE_ORIGIN}${path}${campaignQuery(context)}`,
      path,
      referrer: random.pick(REFERRERS),
      title,
      ...(known ? { email: known } : {}),
    },
  });
}

function order(context: WebhookContext): OutgoingWebhook {
  const { world, random, secrets } = context;
  const customer = anyCustomer(context, (c) => c.shop !== undefined);
  const createdAt = Date.now();
  const { lineItems, subtotalCents, taxCents } = randomBasket(random);
  // Orders are the attribution demo: each comes from a campaign's link, so its UTM shows up.
  const query = campaignQuery(context, 1);
  const placed: Order = {
    // Above every seeded id, and unique across runs: a fresh order, not one of the world's.
    id: createdAt * 10 + (context.sequence % 10),
    number: 1001 + world.orders.length + context.sequence,
    customerIndex: customer.person.index,
    createdAt,
    lineItems,
    subtotalCents,
    taxCents,
    totalCents: subtotalCents + taxCents,
    financialStatus: random.chance(0.9) ? 'paid' : 'pending',
    landingSite: `/products/${lineItems[0]?.sku ?? 'catalog'}${query}`,
    referringSite: query.includes('facebook') ? 'https://l.facebook.com/' : '',
  };
  const body = JSON.stringify(orderJson(world, placed));
  // The event id is what Shopify keeps across redeliveries; the webhook id names this delivery chain.
  const eventId = randomUUID();
  const webhookId = randomUUID();
  const triggeredAt = new Date(createdAt).toISOString();
  return {
    kind: 'order',
    source: 'shopify',
    url: `${context.gatewayOrigin}/webhooks/shopify`,
    attempt: () => ({
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Shopify-Captain-Hook',
        'x-shopify-topic': 'orders/create',
        'x-shopify-hmac-sha256': signShopify(secrets.shopify, body),
        'x-shopify-shop-domain': `${DEMO_CREDENTIALS.shopify.shop}.myshopify.com`,
        'x-shopify-api-version': DEMO_CREDENTIALS.shopify.apiVersion,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': triggeredAt,
      },
      body,
    }),
  };
}

/** `2026-03-01 14:30:00`: Mailchimp's `fired_at`, UTC without a zone. */
function firedAt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function subscribe(context: WebhookContext): OutgoingWebhook {
  const { random, secrets } = context;
  const customer = anyCustomer(context, (c) => c.audience !== undefined);
  const { person } = customer;
  const ip = `203.0.113.${random.int(1, 254)}`;
  const form = new URLSearchParams([
    ['type', 'subscribe'],
    ['fired_at', firedAt(Date.now())],
    ['data[id]', customer.audience?.uniqueEmailId ?? random.hex(10)],
    ['data[list_id]', DEMO_CREDENTIALS.mailchimp.listId],
    ['data[email]', person.email],
    ['data[email_type]', 'html'],
    ['data[ip_opt]', ip],
    ['data[ip_signup]', ip],
    ['data[merges][EMAIL]', person.email],
    ['data[merges][FNAME]', person.firstName],
    ['data[merges][LNAME]', person.lastName],
    ['data[merges][INTERESTS]', random.pick(['Running', 'Camping', 'Running,Camping', 'Travel'])],
  ]);
  const body = form.toString();
  return {
    kind: 'subscribe',
    source: 'mailchimp',
    url: withMailchimpSecret(`${context.gatewayOrigin}/webhooks/mailchimp`, secrets.mailchimp),
    attempt: () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp.com' },
      body,
    }),
  };
}

function contactChange(context: WebhookContext): OutgoingWebhook {
  const { random, secrets, gatewayOrigin } = context;
  const customer = anyCustomer(context);
  const occurredAt = Date.now();
  const changes: { propertyName: string; propertyValue: string }[] = [
    {
      propertyName: 'lifecyclestage',
      propertyValue: random.pick(LIFECYCLE_STAGES.filter((stage) => stage !== customer.crm.lifecycleStage)),
    },
  ];
  if (random.chance(0.4))
    changes.push({ propertyName: 'hs_lead_status', propertyValue: random.pick(LEAD_STATUSES) });
  if (random.chance(0.2))
    changes.push({ propertyName: 'firstname', propertyValue: random.pick(FIRST_NAMES) });
  const events = changes.map((change) => ({
    objectId: Number(customer.crm.id),
    propertyName: change.propertyName,
    propertyValue: change.propertyValue,
    changeSource: random.pick(['CRM_UI', 'AUTOMATION_PLATFORM', 'INTEGRATION']),
    eventId: random.int(1_000_000_000, 4_000_000_000),
    subscriptionId: HUBSPOT_SUBSCRIPTIONS[change.propertyName] ?? 25,
    portalId: Number(DEMO_CREDENTIALS.hubspot.accountId),
    appId: HUBSPOT_APP_ID,
    occurredAt,
    subscriptionType: 'contact.propertyChange',
  }));
  const uri = `${gatewayOrigin}/webhooks/hubspot`;
  return {
    kind: 'contact-change',
    source: 'hubspot',
    url: uri,
    attempt: (number, now) => {
      const body = JSON.stringify(events.map((event) => ({ ...event, attemptNumber: number })));
      const timestamp = now.getTime();
      return {
        headers: {
          'content-type': 'application/json',
          'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon',
          'x-hubspot-signature-version': 'v1',
          'x-hubspot-signature': signHubSpotV1(secrets.hubspot, body),
          'x-hubspot-signature-v3': signHubSpotV3({
            secret: secrets.hubspot,
            method: 'POST',
            uri,
            body,
            timestamp,
          }),
          'x-hubspot-request-timestamp': String(timestamp),
        },
        body,
      };
    },
  };
}
