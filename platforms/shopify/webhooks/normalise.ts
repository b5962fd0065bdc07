import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IncomingEvent } from '../../../lib/events/event.js';
import { toDateTime } from '../../../lib/dates.js';
import { isDecimal, money } from '../../../lib/money.js';
import { parseUtm } from '../../../lib/utm.js';
import { headerValue, type WebhookHeaders } from '../../../lib/webhooks/headers.js';
import {
  accepted,
  invalid,
  normaliseEmail,
  parseJson,
  zodProblems,
  type NormaliseResult,
} from '../../../lib/webhooks/normalise-result.js';

/**
 * Shopify webhook deliveries: the topic in `X-Shopify-Topic`, the body the REST resource itself
 * (an order for `orders/create`, a customer for `customers/create`). One event per delivery.
 */

const email = z.email();

/**
 * Shopify ids are int64. Live ones still fit a double exactly, but the sample payloads Shopify
 * sends from "Send test notification" use ids past 2^53 (`820982911946154508`), which JSON.parse
 * rounds. The GraphQL id in the same body (`gid://shopify/Order/820982911946154508`) keeps every
 * digit, so the id is read from there when present, and from `id` only when `id` is exact.
 */
function exactId<T extends { id: number; admin_graphql_api_id?: string | undefined }>(
  resource: 'Order' | 'Customer',
) {
  const gid = new RegExp(`^gid://shopify/${resource}/(\\d{1,20})$`);
  return (value: T, ctx: z.RefinementCtx<T>): Omit<T, 'id' | 'admin_graphql_api_id'> & { id: string } => {
    const { id, admin_graphql_api_id: graphId, ...rest } = value;
    const fromGraph = graphId === undefined ? undefined : gid.exec(graphId)?.[1];
    if (graphId !== undefined && fromGraph === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['admin_graphql_api_id'],
        message: `expected gid://shopify/${resource}/<digits>`,
      });
    else if (fromGraph === undefined && !Number.isSafeInteger(id))
      ctx.addIssue({
        code: 'custom',
        path: ['id'],
        message: 'expected a whole number below 2^53, or admin_graphql_api_id to read it exactly',
      });
    return { ...rest, id: fromGraph ?? String(id) };
  };
}
const resourceId = z.number().positive();
const graphqlId = z.string().max(200).optional();

const orderSchema = z
  .object({
    id: resourceId,
    admin_graphql_api_id: graphqlId,
    name: z.string().min(1).max(100),
    email: z.string().max(320).nullable().optional(),
    created_at: z.iso.datetime({ offset: true }).optional(),
    total_price: z.string().refine(isDecimal, 'expected a decimal amount'),
    currency: z.string().regex(/^[A-Za-z]{3}$/, 'expected an ISO-4217 code'),
    financial_status: z.string().max(50).nullable().optional(),
    customer: z
      .object({ email: z.string().max(320).nullable().optional() })
      .nullable()
      .optional(),
    line_items: z.array(z.unknown()),
    landing_site: z.string().max(4000).nullable().optional(),
  })
  .transform(exactId('Order'));

const customerSchema = z
  .object({
    id: resourceId,
    admin_graphql_api_id: graphqlId,
    email: z.string().max(320).nullable().optional(),
    created_at: z.iso.datetime({ offset: true }).optional(),
    first_name: z.string().max(500).nullable().optional(),
    last_name: z.string().max(500).nullable().optional(),
    phone: z.string().max(100).nullable().optional(),
    state: z.string().max(50).nullable().optional(),
    tags: z.string().max(4000).nullable().optional(),
    email_marketing_consent: z
      .object({ state: z.string().max(50).nullable().optional() })
      .nullable()
      .optional(),
  })
  .transform(exactId('Customer'));

/**
 * The dedupe key: a SHA-256 of the raw body, the only thing Shopify's HMAC covers. Shopify's own
 * `X-Shopify-Event-Id` is an unsigned header, so keying on it let a captured body be replayed as a
 * new event under any new id. A redelivery carries the same body, so it still is one event; and
 * the topic (unsigned too) is left out, so one body cannot become two events under two topics.
 */
function bodyKey(raw: Buffer): string {
  return `shopify:sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

export function normaliseShopify(raw: Buffer, headers: WebhookHeaders, receivedAt: Date): NormaliseResult {
  const topic = headerValue(headers, 'x-shopify-topic');
  if (topic === undefined) return invalid('X-Shopify-Topic: header missing');
  if (topic !== 'orders/create' && topic !== 'customers/create')
    return invalid('X-Shopify-Topic: expected orders/create or customers/create');

  const triggered = headerValue(headers, 'x-shopify-triggered-at');
  if (triggered !== undefined && !z.iso.datetime({ offset: true }).safeParse(triggered).success)
    return invalid('X-Shopify-Triggered-At: expected an ISO-8601 date-time');
  const delivery = { dedupeKey: bodyKey(raw), triggeredAt: triggered };

  const json = parseJson(raw);
  if (!json.ok) return json.result;
  if (topic === 'orders/create') {
    const order = orderSchema.safeParse(json.value);
    if (!order.success) return zodProblems(order.error);
    const occurredAt = order.data.created_at ?? delivery.triggeredAt;
    if (occurredAt === undefined) return invalid('created_at: required (no X-Shopify-Triggered-At either)');
    return accepted([orderPlaced(order.data, delivery.dedupeKey, occurredAt, receivedAt)]);
  }
  const customer = customerSchema.safeParse(json.value);
  if (!customer.success) return zodProblems(customer.error);
  const occurredAt = customer.data.created_at ?? delivery.triggeredAt;
  if (occurredAt === undefined) return invalid('created_at: required (no X-Shopify-Triggered-At either)');
  return accepted([customerCreated(customer.data, delivery.dedupeKey, occurredAt, receivedAt)]);
}

function orderPlaced(
  order: z.output<typeof orderSchema>,
  dedupeKey: string,
  occurredAt: string,
  receivedAt: Date,
): IncomingEvent {
  const total = money(order.total_price, order.currency);
  const utm = parseUtm(order.landing_site);
  return {
    dedupeKey,
    type: 'ORDER_PLACED',
    source: 'shopify',
    occurredAt: toDateTime(occurredAt),
    receivedAt: receivedAt.toISOString(),
    customer: customerRef(order.email ?? order.customer?.email),
    properties: {
      orderId: order.id,
      name: order.name,
      totalPrice: total.amount,
      currency: total.currency,
      financialStatus: order.financial_status ? graphEnum(order.financial_status) : null,
      utm: utm ? { ...utm } : null,
      lineItemCount: order.line_items.length,
    },
    personal: null,
  };
}

function customerCreated(
  customer: z.output<typeof customerSchema>,
  dedupeKey: string,
  occurredAt: string,
  receivedAt: Date,
): IncomingEvent {
  const personal: Record<string, string> = {};
  if (customer.first_name) personal['firstName'] = customer.first_name;
  if (customer.last_name) personal['lastName'] = customer.last_name;
  if (customer.phone) personal['phone'] = customer.phone;
  const consent = customer.email_marketing_consent?.state;
  return {
    dedupeKey,
    type: 'CUSTOMER_CREATED',
    source: 'shopify',
    occurredAt: toDateTime(occurredAt),
    receivedAt: receivedAt.toISOString(),
    customer: customerRef(customer.email),
    properties: {
      shopCustomerId: customer.id,
      accountState: customer.state ? graphEnum(customer.state) : null,
      marketingConsent: consent ? graphEnum(consent) : null,
      tags: customer.tags
        ? customer.tags
            .split(',')
            .map((tag) => tag.trim())
            .filter((tag) => tag !== '')
        : [],
    },
    personal: Object.keys(personal).length > 0 ? personal : null,
  };
}

/** An email as a customer reference; orders without one (point of sale, drafts) name no customer. */
function customerRef(address: string | null | undefined): IncomingEvent['customer'] {
  if (!address) return null;
  const normalised = normaliseEmail(address);
  return email.safeParse(normalised).success ? { email: normalised } : null;
}

/** Shopify's snake_case enum values as the graph writes enums: `partially_refunded` -> `PARTIALLY_REFUNDED`. */
function graphEnum(value: string): string {
  return value
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
}
