import { randomUUID } from 'node:crypto';
import { signStandardWebhook } from '../../lib/webhooks/sign.js';
import { signHubSpotV3 } from '../../platforms/hubspot/sandbox/sign.js';
import { signShopify } from '../../platforms/shopify/sandbox/sign.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/index.js';

/**
 * Signed webhook requests exactly as each platform sends them (headers, body, signature), with
 * the demo secrets the test stack verifies with. Built here, field by field, so a test states the
 * order total or the customer it is about.
 */
export interface SignedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

let orderNumber = 5_000;

export function shopifyOrder(options: {
  email: string;
  totalPrice: string;
  eventId?: string;
  currency?: string;
  landingSite?: string;
  secret?: string;
}): SignedWebhook & { eventId: string; orderId: number } {
  const orderId = 820_000_000_000 + orderNumber++;
  const eventId = options.eventId ?? randomUUID();
  const body = JSON.stringify({
    id: orderId,
    name: `#${orderNumber}`,
    email: options.email,
    created_at: new Date().toISOString().replace('Z', '-00:00'),
    total_price: options.totalPrice,
    currency: options.currency ?? 'USD',
    financial_status: 'paid',
    customer: { id: 1, email: options.email },
    line_items: [{ id: 1, title: 'Rain shell', quantity: 1, price: options.totalPrice }],
    landing_site:
      options.landingSite ??
      '/products/rain-shell?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring-sale',
  });
  return {
    path: '/webhooks/shopify',
    eventId,
    orderId,
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-event-id': eventId,
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
      'x-shopify-shop-domain': 'demo-outdoor.myshopify.com',
      'x-shopify-api-version': '2025-10',
      'x-shopify-hmac-sha256': signShopify(options.secret ?? DEMO_WEBHOOK_SECRETS.shopify, body),
    },
  };
}

/** A `form.submitted` message from the company's site, signed with Standard Webhooks. */
export function siteFormSubmission(options: {
  email: string;
  formId?: string;
  firstName?: string;
  pageUrl?: string;
  /** @default the demo site secret */
  secret?: string;
}): SignedWebhook {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify({
    type: 'form.submitted',
    timestamp: new Date().toISOString(),
    data: {
      formId: options.formId ?? 'contact-us',
      pageUrl:
        options.pageUrl ??
        'https://www.demo-outdoor.example/contact?utm_source=mailchimp&utm_medium=email&utm_campaign=spring-sale',
      fields: [
        { name: 'email', value: options.email },
        { name: 'firstname', value: options.firstName ?? 'Ada' },
      ],
    },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    path: '/webhooks/site',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({
        secret: options.secret ?? DEMO_WEBHOOK_SECRETS.site,
        id,
        timestamp,
        body,
      }),
    },
  };
}

/** A `page.viewed` message from the company's site, signed with Standard Webhooks. */
export function sitePageView(options: {
  url: string;
  referrer?: string;
  title?: string;
  email?: string;
}): SignedWebhook {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const body = JSON.stringify({
    type: 'page.viewed',
    timestamp: new Date().toISOString(),
    data: {
      url: options.url,
      ...(options.referrer !== undefined ? { referrer: options.referrer } : {}),
      ...(options.title !== undefined ? { title: options.title } : {}),
      ...(options.email !== undefined ? { email: options.email } : {}),
    },
  });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    path: '/webhooks/site',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ secret: DEMO_WEBHOOK_SECRETS.site, id, timestamp, body }),
    },
  };
}

/** A HubSpot v3-signed batch of `contact.propertyChange` events, for the gateway at `origin`. */
export function hubspotPropertyChanges(
  origin: string,
  changes: { objectId: number; propertyName: string; value: string }[],
): SignedWebhook {
  const now = Date.now();
  const body = JSON.stringify(
    changes.map((change, i) => ({
      eventId: now * 10 + i,
      subscriptionId: 27,
      portalId: 62515,
      appId: 1160452,
      occurredAt: now,
      subscriptionType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: change.objectId,
      propertyName: change.propertyName,
      propertyValue: change.value,
      changeSource: 'CRM_UI',
    })),
  );
  const path = '/webhooks/hubspot';
  return {
    path,
    body,
    headers: {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': String(now),
      'x-hubspot-signature-v3': signHubSpotV3({
        secret: DEMO_WEBHOOK_SECRETS.hubspot,
        uri: `${origin}${path}`,
        body,
        timestamp: now,
      }),
    },
  };
}

export async function postWebhook(
  origin: string,
  webhook: SignedWebhook,
): Promise<{
  status: number;
  body: {
    accepted?: number;
    duplicates?: number;
    errors?: { message: string; extensions: Record<string, unknown> }[];
  };
}> {
  const response = await fetch(`${origin}${webhook.path}`, {
    method: 'POST',
    headers: webhook.headers,
    body: webhook.body,
  });
  return { status: response.status, body: (await response.json()) as never };
}
