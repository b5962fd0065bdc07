import {
  SHOP_CURRENCY,
  totalSpentCents,
  type Customer,
  type Order,
  type World,
} from '../../../sandboxes/world/world.js';

/**
 * The world as Shopify's Admin REST API writes it: snake_case resources, numeric ids, money as
 * decimal strings and timestamps in the shop's time zone. Shopify stores whole seconds.
 */

type Json = Record<string, unknown>;

/** The demo shop is in New York; a fixed EST offset keeps every timestamp's offset visible. */
const SHOP_UTC_OFFSET = '-05:00';
const SHOP_UTC_OFFSET_MS = -5 * 3_600_000;
/** An order ships (and Shopify archives it, setting `closed_at`) this long after it was paid. */
const FULFILMENT_DELAY_MS = 2 * 86_400_000;

/** An instant as Shopify stores it: truncated to the second. */
export function shopInstant(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** `2026-03-01T09:30:00-05:00`: ISO-8601 in the shop's zone, no milliseconds, as Shopify writes it. */
export function shopTime(ms: number): string {
  return `${new Date(shopInstant(ms) + SHOP_UTC_OFFSET_MS).toISOString().slice(0, 19)}${SHOP_UTC_OFFSET}`;
}

/** Integer cents as Shopify's decimal string (`"199.00"`), without going through a float. */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const ADDRESSES: Record<string, { city: string; province: string; zip: string }> = {
  '212': { city: 'New York', province: 'New York', zip: '10001' },
  '415': { city: 'San Francisco', province: 'California', zip: '94103' },
  '312': { city: 'Chicago', province: 'Illinois', zip: '60601' },
  '617': { city: 'Boston', province: 'Massachusetts', zip: '02108' },
  '206': { city: 'Seattle', province: 'Washington', zip: '98101' },
};

function address(customer: Customer): Json {
  const { person } = customer;
  const area = person.phone.split(' ')[1] ?? '212';
  const place = ADDRESSES[area] ?? { city: 'New York', province: 'New York', zip: '10001' };
  return {
    first_name: person.firstName,
    last_name: person.lastName,
    address1: `${100 + (person.index % 900)} Main Street`,
    city: place.city,
    province: place.province,
    country: 'United States',
    zip: place.zip,
    phone: e164(person.phone),
  };
}

const e164 = (phone: string) => phone.replace(/\s+/g, '');

/** Orders fulfilled and archived by the anchor date have `closed_at`; `status=open` leaves them out. */
export function closedAt(order: Order, world: World): number | null {
  const anchorEnd = Date.parse(`${world.options.anchorDate}T23:59:59.999Z`);
  const shipped = order.financialStatus !== 'pending' && order.financialStatus !== 'authorized';
  const closed = order.createdAt + FULFILMENT_DELAY_MS;
  return shipped && closed <= anchorEnd ? closed : null;
}

/** Orders of a shop customer, oldest first. */
export function ordersOf(world: World, customer: Customer): Order[] {
  return world.ordersByCustomer.get(customer.person.index) ?? [];
}

export function customerJson(world: World, customer: Customer): Json {
  const shop = customer.shop;
  if (!shop) throw new RangeError('not a shop customer');
  const { person } = customer;
  const orders = ordersOf(world, customer);
  const last = orders[orders.length - 1];
  return {
    id: shop.id,
    email: person.email,
    first_name: person.firstName,
    last_name: person.lastName,
    phone: e164(person.phone),
    created_at: shopTime(shop.createdAt),
    updated_at: shopTime(shop.updatedAt),
    state: shop.state,
    tags: shop.tags,
    orders_count: orders.length,
    total_spent: centsToDecimal(totalSpentCents(orders)),
    last_order_id: last ? last.id : null,
    last_order_name: last ? `#${last.number}` : null,
    currency: SHOP_CURRENCY,
    verified_email: shop.state !== 'invited',
    tax_exempt: false,
    note: null,
    default_address: { id: shop.id + 1, customer_id: shop.id, ...address(customer), default: true },
    email_marketing_consent: {
      state: shop.marketingConsent,
      opt_in_level: 'single_opt_in',
      consent_updated_at:
        shop.marketingConsent === 'subscribed' && customer.audience?.optedInAt
          ? shopTime(customer.audience.optedInAt)
          : null,
    },
    admin_graphql_api_id: `gid://shopify/Customer/${shop.id}`,
  };
}

export function orderJson(world: World, order: Order): Json {
  const customer = world.customers[order.customerIndex];
  const closed = closedAt(order, world);
  return {
    id: order.id,
    admin_graphql_api_id: `gid://shopify/Order/${order.id}`,
    name: `#${order.number}`,
    order_number: order.number,
    email: customer?.person.email ?? null,
    created_at: shopTime(order.createdAt),
    processed_at: shopTime(order.createdAt),
    updated_at: shopTime(closed ?? order.createdAt),
    closed_at: closed === null ? null : shopTime(closed),
    cancelled_at: null,
    total_price: centsToDecimal(order.totalCents),
    subtotal_price: centsToDecimal(order.subtotalCents),
    total_tax: centsToDecimal(order.taxCents),
    total_discounts: '0.00',
    currency: SHOP_CURRENCY,
    presentment_currency: SHOP_CURRENCY,
    financial_status: order.financialStatus,
    fulfillment_status: closed === null ? null : 'fulfilled',
    customer:
      customer?.shop === undefined
        ? null
        : {
            id: customer.shop.id,
            email: customer.person.email,
            first_name: customer.person.firstName,
            last_name: customer.person.lastName,
          },
    line_items: order.lineItems.map((item, i) => ({
      id: order.id * 10 + i + 1,
      title: item.title,
      quantity: item.quantity,
      price: centsToDecimal(item.priceCents),
      sku: item.sku,
    })),
    landing_site: order.landingSite,
    landing_site_ref: null,
    referring_site: order.referringSite === '' ? null : order.referringSite,
    source_name: 'web',
    shipping_address: customer ? address(customer) : null,
  };
}

export function shopJson(shopDomain: string): Json {
  const handle = shopDomain.split('.')[0] ?? shopDomain;
  return {
    id: 60_000_000_001,
    name: handle
      .split('-')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(' '),
    domain: shopDomain,
    myshopify_domain: shopDomain,
    currency: SHOP_CURRENCY,
    iana_timezone: 'America/New_York',
    timezone: '(GMT-05:00) America/New_York',
  };
}

/** Shopify's `fields=`: keeps only the named top-level fields; no list means the whole resource. */
export function pickFields(resource: Json, fields: readonly string[]): Json {
  if (fields.length === 0) return resource;
  return Object.fromEntries(fields.filter((f) => f in resource).map((f) => [f, resource[f]]));
}
