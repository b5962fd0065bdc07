import { randomUUID } from 'node:crypto';
import {
  signHubSpotV1,
  signHubSpotV3,
  signShopify,
  signStandardWebhook,
  withMailchimpSecret,
} from '../../lib/webhooks/sign.js';
import { DEMO_CREDENTIALS } from '../demo-credentials.js';
import { customerJson, orderJson } from '../../platforms/shopify/sandbox/resources.js';
import type { MemberEvent } from '../world/changes.js';
import { PRODUCTS } from '../world/names.js';
import type { Random } from '../world/random.js';
import type { Customer, Order, World } from '../world/world.js';
import type { WebhookSecrets } from './secrets.js';

/**
 * Webhooks as each platform sends them: its path on the gateway, its headers (signatures included)
 * and its body format. The platforms' webhooks are written from a change already applied to the
 * world (events.ts applies it), so they say what the sandboxes now serve; the site's (form fills,
 * page views) change no platform record and are drawn here. A platform signs every delivery attempt
 * afresh (new timestamp; HubSpot also counts `attemptNumber` in the body), so a webhook is a recipe
 * for an attempt rather than fixed bytes.
 */

export const WEBHOOK_KINDS = [
  'form-fill',
  'page-view',
  'order',
  'subscribe',
  'unsubscribe',
  'cleaned',
  'contact-change',
] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

export type WebhookSource = keyof WebhookSecrets;

/** How often each kind comes up when the emitter picks one: page views dominate, as on a real site. */
export const KIND_WEIGHTS: Readonly<Record<WebhookKind, number>> = {
  'page-view': 35,
  'form-fill': 20,
  order: 20,
  'contact-change': 15,
  subscribe: 10,
  unsubscribe: 3,
  cleaned: 1,
};

export interface WebhookAttempt {
  headers: Record<string, string>;
  body: string;
}

export interface OutgoingWebhook {
  kind: WebhookKind;
  source: WebhookSource;
  /** The platform's name for it: `orders/create`, `contact.propertyChange`, `cleaned`, `form.submitted`. */
  topic: string;
  /** The gateway URL it is posted to (`…/webhooks/mailchimp?secret=…`). */
  url: string;
  /** What the first attempt's body says, as data (a form body as its fields), to show a user. */
  payload: unknown;
  /** The signed request for one attempt (0 is the first delivery). */
  attempt(number: number, now: Date): WebhookAttempt;
}

export interface WebhookContext {
  world: World;
  random: Random;
  secrets: WebhookSecrets;
  /** Where the gateway listens (`http://localhost:4000`); HubSpot signs the full URI it calls. */
  gatewayOrigin: string;
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

/**
 * UTM parameters of a campaign of the world, the way its ads and emails tag links, with the
 * probability `tagged` (untagged visits come from bookmarks and search). @default tagged 0.6
 */
export function campaignQuery({ world, random }: Pick<WebhookContext, 'world' | 'random'>, tagged = 0.6) {
  if (!random.chance(tagged) || world.campaigns.length === 0) return '';
  const { key } = random.pick(world.campaigns);
  const [source, medium] = random.chance(0.6) ? ['facebook', 'paid_social'] : ['mailchimp', 'email'];
  return `?utm_source=${source}&utm_medium=${medium}&utm_campaign=${key}&utm_content=${random.pick(['hero', 'carousel', 'cta'])}`;
}

/** A message of the company's site, signed with Standard Webhooks; `webhook-id` is kept across retries. */
function siteWebhook(
  kind: WebhookKind,
  context: WebhookContext,
  message: { type: string; [key: string]: unknown },
): OutgoingWebhook {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify(message);
  return {
    kind,
    source: 'site',
    topic: message.type,
    url: `${context.gatewayOrigin}/webhooks/site`,
    payload: message,
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

/** A form on the site filled by someone the world knows. */
export function formFill(context: WebhookContext): OutgoingWebhook {
  const { random } = context;
  const { person } = random.pick(context.world.customers);
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

/** A page of the site viewed, by someone the world knows four times in ten. */
export function pageView(context: WebhookContext): OutgoingWebhook {
  const { random } = context;
  const product = random.pick(PRODUCTS);
  const path = random.chance(0.7)
    ? `/products/${product}`
    : random.pick(['/', '/collections/new', '/journal']);
  const known = random.chance(0.4) ? random.pick(context.world.customers).person.email : undefined;
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

/** A Shopify webhook: the REST resource as the body, the topic and the event id in headers. */
function shopifyWebhook(
  context: WebhookContext,
  topic: 'orders/create' | 'customers/create',
  resource: Record<string, unknown>,
  triggeredAt: number,
): OutgoingWebhook {
  const body = JSON.stringify(resource);
  // The event id is what Shopify keeps across redeliveries; the webhook id names this delivery chain.
  const eventId = randomUUID();
  const webhookId = randomUUID();
  return {
    kind: 'order',
    source: 'shopify',
    topic,
    url: `${context.gatewayOrigin}/webhooks/shopify`,
    payload: resource,
    attempt: () => ({
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Shopify-Captain-Hook',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signShopify(context.secrets.shopify, body),
        'x-shopify-shop-domain': `${DEMO_CREDENTIALS.shopify.shop}.myshopify.com`,
        'x-shopify-api-version': DEMO_CREDENTIALS.shopify.apiVersion,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': new Date(triggeredAt).toISOString(),
      },
      body,
    }),
  };
}

/** `orders/create` for an order already in the world: the body is the order as the sandbox serves it. */
export function orderCreated(context: WebhookContext, order: Order): OutgoingWebhook {
  return shopifyWebhook(context, 'orders/create', orderJson(context.world, order), order.createdAt);
}

/** `customers/create` for a shop customer already in the world. */
export function shopCustomerCreated(context: WebhookContext, customer: Customer): OutgoingWebhook {
  return shopifyWebhook(
    context,
    'customers/create',
    customerJson(context.world, customer),
    customer.shop?.createdAt ?? Date.now(),
  );
}

/** `2026-03-01 14:30:00`: Mailchimp's `fired_at`, UTC without a zone. */
function firedAt(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A Mailchimp audience webhook for a status change already applied to the member: form-encoded
 * with PHP-style keys, as Mailchimp posts them, and the URL secret in the query.
 */
export function memberEvent(
  context: WebhookContext,
  customer: Customer,
  event: MemberEvent,
  at: number,
): OutgoingWebhook {
  const { random, secrets, world } = context;
  const { person } = customer;
  const listId = DEMO_CREDENTIALS.mailchimp.listId;
  const memberId = customer.audience?.uniqueEmailId ?? random.hex(10);
  const lastCampaign = world.emailCampaigns[world.emailCampaigns.length - 1]?.id;
  const ip = `203.0.113.${random.int(1, 254)}`;
  const member: [string, string][] = [
    ['data[id]', memberId],
    ['data[list_id]', listId],
    ['data[email]', person.email],
    ['data[email_type]', 'html'],
    ['data[ip_opt]', ip],
    ['data[ip_signup]', ip],
    ['data[merges][EMAIL]', person.email],
    ['data[merges][FNAME]', person.firstName],
    ['data[merges][LNAME]', person.lastName],
  ];
  let fields: [string, string][];
  switch (event) {
    case 'subscribe':
      fields = [
        ...member,
        ['data[merges][INTERESTS]', random.pick(['Running', 'Camping', 'Running,Camping', 'Travel'])],
      ];
      break;
    case 'unsubscribe':
      fields = [
        ...member,
        ['data[action]', 'unsub'],
        ['data[reason]', 'manual'],
        ...(lastCampaign ? ([['data[campaign_id]', lastCampaign]] as [string, string][]) : []),
      ];
      break;
    case 'cleaned':
      // A hard bounce of the last campaign: Mailchimp sends only the list, the address and why.
      fields = [
        ['data[list_id]', listId],
        ...(lastCampaign ? ([['data[campaign_id]', lastCampaign]] as [string, string][]) : []),
        ['data[reason]', 'hard'],
        ['data[email]', person.email],
      ];
      break;
  }
  const all: [string, string][] = [['type', event], ['fired_at', firedAt(at)], ...fields];
  const body = new URLSearchParams(all).toString();
  return {
    kind: event,
    source: 'mailchimp',
    topic: event,
    url: withMailchimpSecret(`${context.gatewayOrigin}/webhooks/mailchimp`, secrets.mailchimp),
    payload: Object.fromEntries(all),
    attempt: () => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp.com' },
      body,
    }),
  };
}

/**
 * A HubSpot `contact.propertyChange` batch for property values already set on the contact: one
 * event per property, as HubSpot sends one per subscription.
 */
export function contactPropertyChanges(
  context: WebhookContext,
  customer: Customer,
  changes: readonly { propertyName: string; propertyValue: string }[],
  at: number,
): OutgoingWebhook {
  const { random, secrets, gatewayOrigin } = context;
  const changeSource = random.pick(['CRM_UI', 'AUTOMATION_PLATFORM', 'INTEGRATION']);
  const events = changes.map((change) => ({
    objectId: Number(customer.crm.id),
    propertyName: change.propertyName,
    propertyValue: change.propertyValue,
    changeSource,
    eventId: random.int(1_000_000_000, 4_000_000_000),
    subscriptionId: HUBSPOT_SUBSCRIPTIONS[change.propertyName] ?? 25,
    portalId: Number(DEMO_CREDENTIALS.hubspot.accountId),
    appId: HUBSPOT_APP_ID,
    occurredAt: at,
    subscriptionType: 'contact.propertyChange',
  }));
  const uri = `${gatewayOrigin}/webhooks/hubspot`;
  return {
    kind: 'contact-change',
    source: 'hubspot',
    topic: 'contact.propertyChange',
    url: uri,
    payload: events.map((event) => ({ ...event, attemptNumber: 0 })),
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
