import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { normaliseShopify } from '../../platforms/shopify/webhooks/normalise.js';
import { customerJson, orderJson } from '../../platforms/shopify/sandbox/resources.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';

const world = generateWorld({ seed: 7, customers: 200, anchorDate: TEST_ANCHOR_DATE });
const RECEIVED = new Date('2026-11-28T12:00:00.000Z');
const headers = (topic: string, extra: Record<string, string> = {}) => ({
  'x-shopify-topic': topic,
  'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  'x-shopify-triggered-at': '2026-11-28T11:59:58.000Z',
  ...extra,
});
const body = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The key a body dedupes on, computed here apart from the normaliser. */
const bodyKey = (raw: Buffer) => `shopify:sha256:${createHash('sha256').update(raw).digest('hex')}`;
/** Cents as a decimal string with integer arithmetic, independent of lib/money. */
const decimal = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

describe('Shopify normaliser', () => {
  const order = world.orders.find((o) => o.landingSite.includes('utm_campaign='));
  if (!order) throw new Error('the seeded world has no order with a campaign landing link');
  const buyer = world.customers[order.customerIndex];
  if (!buyer) throw new Error('order without its customer');

  it('should turn orders/create into ORDER_PLACED with total, status, UTM and line items', () => {
    const raw = body(orderJson(world, order));
    const result = normaliseShopify(raw, headers('orders/create'), RECEIVED);
    const landing = new URLSearchParams(order.landingSite.split('?')[1]);
    expect(result).toEqual({
      ok: true,
      events: [
        {
          dedupeKey: bodyKey(raw),
          type: 'ORDER_PLACED',
          source: 'shopify',
          occurredAt: new Date(Math.floor(order.createdAt / 1000) * 1000).toISOString(),
          receivedAt: RECEIVED.toISOString(),
          customer: { email: buyer.person.email },
          properties: {
            orderId: String(order.id),
            name: `#${order.number}`,
            totalPrice: decimal(order.totalCents),
            currency: 'USD',
            financialStatus: order.financialStatus.toUpperCase(),
            utm: {
              source: landing.get('utm_source'),
              medium: landing.get('utm_medium'),
              campaign: landing.get('utm_campaign'),
              content: landing.get('utm_content'),
              term: null,
            },
            lineItemCount: order.lineItems.length,
          },
          personal: null,
        },
      ],
    });
  });

  it('should lower-case the email, and name no customer when the order has none', () => {
    const shouting = { ...orderJson(world, order), email: buyer.person.email.toUpperCase(), customer: null };
    const result = normaliseShopify(body(shouting), headers('orders/create'), RECEIVED);
    expect(result.ok && result.events[0]?.customer).toEqual({ email: buyer.person.email });
    const anonymous = { ...orderJson(world, order), email: null, customer: null };
    const pos = normaliseShopify(body(anonymous), headers('orders/create'), RECEIVED);
    expect(pos.ok && pos.events[0]?.customer).toBeNull();
  });

  it('should key on the signed body alone, whatever the unsigned id headers say', () => {
    const raw = body(orderJson(world, order));
    const keyWith = (extra: Record<string, string>) => {
      const result = normaliseShopify(raw, headers('orders/create', extra), RECEIVED);
      return result.ok ? result.events[0]?.dedupeKey : result.problems;
    };
    const { 'x-shopify-event-id': _e, 'x-shopify-webhook-id': _w, ...noIds } = headers('orders/create');
    expect(keyWith({})).toBe(bodyKey(raw));
    expect(
      keyWith({ 'x-shopify-event-id': 'replayed-under-a-new-id', 'x-shopify-webhook-id': 'another' }),
    ).toBe(bodyKey(raw));
    expect(normaliseShopify(raw, noIds, RECEIVED)).toMatchObject({
      ok: true,
      events: [{ dedupeKey: bodyKey(raw) }],
    });
    // Nor does the unsigned topic make an order's body into a customer: its GraphQL id says Order.
    expect(keyWith({ 'x-shopify-topic': 'customers/create' })).toEqual([
      expect.stringMatching(/^admin_graphql_api_id: /),
    ]);
    // Another order (another body) is another event.
    const other = body({ ...orderJson(world, order), total_price: '1.00' });
    const otherResult = normaliseShopify(other, headers('orders/create'), RECEIVED);
    expect(otherResult.ok && otherResult.events[0]?.dedupeKey).not.toBe(bodyKey(raw));
  });

  it("should read Shopify's sample ids past 2^53 exactly from admin_graphql_api_id", () => {
    // The test notification's order and customer ids, as Shopify sends them: JSON.parse rounds both.
    const sample = `{"id":820982911946154508,"admin_graphql_api_id":"gid://shopify/Order/820982911946154508","name":"#9999","email":"jon@example.com","created_at":"2021-12-31T19:00:00-05:00","total_price":"403.00","currency":"USD","financial_status":"voided","line_items":[{"id":866550311766439020},{"id":141249953214522974}],"landing_site":null}`;
    const result = normaliseShopify(Buffer.from(sample), headers('orders/create'), RECEIVED);
    expect(result.ok && result.events[0]?.properties).toMatchObject({
      orderId: '820982911946154508',
      totalPrice: '403.00',
      financialStatus: 'VOIDED',
      utm: null,
      lineItemCount: 2,
    });
    const customer = `{"id":706405506930370084,"admin_graphql_api_id":"gid://shopify/Customer/706405506930370084","email":"bob@biller.com","created_at":"2021-12-31T19:00:00-05:00","state":"disabled"}`;
    const created = normaliseShopify(Buffer.from(customer), headers('customers/create'), RECEIVED);
    expect(created.ok && created.events[0]?.properties['shopCustomerId']).toBe('706405506930370084');
  });

  it('should refuse an id it cannot read exactly, naming the field', () => {
    const rounded = {
      ...orderJson(world, order),
      id: Number('820982911946154508'),
      admin_graphql_api_id: undefined,
    };
    expect(normaliseShopify(body(rounded), headers('orders/create'), RECEIVED)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^id: /)],
    });
    const foreign = { ...orderJson(world, order), admin_graphql_api_id: 'gid://shopify/Customer/1' };
    expect(normaliseShopify(body(foreign), headers('orders/create'), RECEIVED)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^admin_graphql_api_id: /)],
    });
  });

  it('should take occurredAt from X-Shopify-Triggered-At when the body has no created_at', () => {
    const { created_at: _c, ...trimmed } = orderJson(world, order);
    const result = normaliseShopify(body(trimmed), headers('orders/create'), RECEIVED);
    expect(result.ok && result.events[0]?.occurredAt).toBe('2026-11-28T11:59:58.000Z');
  });

  it('should turn customers/create into CUSTOMER_CREATED, names and phone kept in personal', () => {
    const shopper = world.customers.find((c) => c.shop !== undefined);
    if (!shopper?.shop) throw new Error('the seeded world has no shop customer');
    const raw = body(customerJson(world, shopper));
    const result = normaliseShopify(raw, headers('customers/create'), RECEIVED);
    expect(result.ok && result.events[0]).toEqual({
      dedupeKey: bodyKey(raw),
      type: 'CUSTOMER_CREATED',
      source: 'shopify',
      occurredAt: new Date(Math.floor(shopper.shop.createdAt / 1000) * 1000).toISOString(),
      receivedAt: RECEIVED.toISOString(),
      customer: { email: shopper.person.email },
      properties: {
        shopCustomerId: String(shopper.shop.id),
        accountState: shopper.shop.state.toUpperCase(),
        marketingConsent: shopper.shop.marketingConsent.toUpperCase(),
        tags: shopper.shop.tags === '' ? [] : [shopper.shop.tags],
      },
      personal: {
        firstName: shopper.person.firstName,
        lastName: shopper.person.lastName,
        phone: shopper.person.phone.replace(/\s+/g, ''),
      },
    });
  });

  it('should refuse a missing or unhandled topic', () => {
    const { 'x-shopify-topic': _t, ...noTopic } = headers('orders/create');
    expect(normaliseShopify(body(orderJson(world, order)), noTopic, RECEIVED)).toEqual({
      ok: false,
      problems: ['X-Shopify-Topic: header missing'],
    });
    expect(normaliseShopify(body(orderJson(world, order)), headers('orders/updated'), RECEIVED)).toEqual({
      ok: false,
      problems: ['X-Shopify-Topic: expected orders/create or customers/create'],
    });
  });

  it('should name malformed fields without quoting the order’s personal data', () => {
    const broken = {
      ...orderJson(world, order),
      total_price: 'ninety',
      currency: 'dollars',
      line_items: 'many',
    };
    const result = normaliseShopify(body(broken), headers('orders/create'), RECEIVED);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.split(':')[0])).toEqual(['total_price', 'currency', 'line_items']);
    const text = result.problems.join('\n');
    expect(text).not.toContain(buyer.person.email);
    expect(text).not.toContain('ninety');
    expect(normaliseShopify(Buffer.from('{"id":'), headers('orders/create'), RECEIVED)).toEqual({
      ok: false,
      problems: ['(body): not valid JSON'],
    });
  });
});
