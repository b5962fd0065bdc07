import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import { nextPageInfo, shopifyProtocol } from '../../platforms/shopify/client/protocol.js';
import { parseUtm } from '../../lib/utm.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { totalSpentCents, type Order } from '../../sandboxes/world/world.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const ORDERS = 'GET /admin/api/{version}/orders.json';
const SEARCH = 'GET /admin/api/{version}/customers/search.json';
const SHOP = 'GET /admin/api/{version}/shop.json';
const TOKEN = DEMO_CREDENTIALS.shopify.accessToken;

/** Integer cents as the decimal string the graph uses, computed without floats. */
const dollars = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
/** Shopify keeps whole seconds. */
const stored = (ms: number) => Math.floor(ms / 1000) * 1000;
const dayStart = (date: string) => Date.parse(`${date}T00:00:00.000Z`);
const dayEnd = (date: string) => Date.parse(`${date}T23:59:59.999Z`);

describe('Shopify connector against the Shopify sandbox', () => {
  let sandbox: RunningSandbox;
  let shopify: ShopifyConnector;
  const connect = (overrides: Partial<ConstructorParameters<typeof ShopifyConnector>[0]> = {}) =>
    new ShopifyConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: TOKEN,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...overrides,
    });
  const raw = (pathAndQuery: string, token: string = TOKEN) =>
    fetch(`${sandbox.baseUrl}${pathAndQuery}`, { headers: { 'x-shopify-access-token': token } });
  const ordersIn = (minMs: number, maxMs: number): Order[] =>
    sandbox.world.orders.filter((o) => stored(o.createdAt) >= minMs && stored(o.createdAt) <= maxMs);

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { customers: 600 });
    shopify = connect();
  });
  afterAll(async () => {
    await shopify.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should page through every order of a range with Link page_info, oldest first, without repeats', async () => {
    const minMs = dayStart(addDays(TEST_ANCHOR_DATE, -179));
    const maxMs = dayEnd(TEST_ANCHOR_DATE);
    const expected = ordersIn(minMs, maxMs);
    expect(expected.length).toBeGreaterThan(250);
    const orders = await shopify.listOrders(testRequest(), { createdAtMinMs: minMs, createdAtMaxMs: maxMs });
    expect(orders.map((o) => o.id)).toEqual(expected.map((o) => String(o.id)));
    expect(new Set(orders.map((o) => o.id)).size).toBe(expected.length);
    const stats = await sandbox.stats();
    expect(stats.endpoints[ORDERS]).toEqual({
      count: Math.ceil(expected.length / 250),
      statuses: { '200': Math.ceil(expected.length / 250) },
    });
  });

  it('should keep to the UTC days of a narrow range', async () => {
    const since = addDays(TEST_ANCHOR_DATE, -40);
    const until = addDays(TEST_ANCHOR_DATE, -31);
    const expected = ordersIn(dayStart(since), dayEnd(until));
    const orders = await shopify.listOrders(testRequest(), {
      createdAtMinMs: dayStart(since),
      createdAtMaxMs: dayEnd(until),
    });
    expect(orders.map((o) => o.id)).toEqual(expected.map((o) => String(o.id)));
    expect(
      orders.every((o) => o.createdAt >= `${since}T00:00:00` && o.createdAt <= `${until}T23:59:59.999Z`),
    ).toBe(true);
  });

  it('should refuse a page_info request that repeats the filters (400) and accept limit and fields', async () => {
    const first = await raw('/orders.json?status=any&limit=5');
    expect(first.status).toBe(200);
    expect(((await first.json()) as { orders: unknown[] }).orders).toHaveLength(5);
    const link = first.headers.get('link') ?? '';
    expect(link).toMatch(
      /^<https:\/\/demo-outdoor-co\.myshopify\.com\/admin\/api\/2026-10\/orders\.json\?limit=5&page_info=[\w-]+>; rel="next"$/,
    );
    const pageInfo = nextPageInfo({ link });
    expect(pageInfo).toBeDefined();

    const mixed = await raw(`/orders.json?page_info=${pageInfo}&status=any`);
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as { errors: { page_info: string[] } }).errors.page_info[0]).toMatch(
      /status are not allowed with page_info/,
    );

    const second = await raw(`/orders.json?page_info=${pageInfo}&limit=5&fields=id`);
    expect(second.status).toBe(200);
    const body = (await second.json()) as { orders: { id: number }[] };
    expect(body.orders).toEqual(sandbox.world.orders.slice(5, 10).map((o) => ({ id: o.id })));
    expect(second.headers.get('link')).toMatch(/rel="next", <[^>]+page_info=[\w-]+>; rel="previous"$/);

    const tooMany = await raw('/orders.json?status=any&limit=251');
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toEqual({ errors: { limit: ['must be less than or equal to 250'] } });
  });

  it('should find customers by email in one search call, with null for emails the shop does not know', async () => {
    const buyers = sandbox.world.customers.filter((c) => c.shop).slice(0, 30);
    const browser = sandbox.world.customers.find((c) => !c.shop)!;
    const asked = [
      ...buyers.map((c, i) => (i % 2 === 0 ? c.person.email.toUpperCase() : c.person.email)),
      browser.person.email,
      'ghost@example.invalid',
    ];
    const found = await shopify.findCustomersByEmail(testRequest(), asked);
    expect(found.size).toBe(32);
    for (const buyer of buyers) {
      const orders = sandbox.world.ordersByCustomer.get(buyer.person.index)!;
      expect(found.get(buyer.person.email)).toEqual({
        id: String(buyer.shop!.id),
        email: buyer.person.email,
        ordersCount: orders.length,
        lifetimeValue: { amount: dollars(totalSpentCents(orders)), currency: 'USD' },
        lastOrderId: String(orders[orders.length - 1]!.id),
      });
    }
    expect(found.get(browser.person.email)).toBeNull();
    expect(found.get('ghost@example.invalid')).toBeNull();
    expect((await sandbox.stats()).endpoints[SEARCH]).toEqual({ count: 1, statuses: { '200': 1 } });
  });

  it('should split more than 50 emails into searches of at most 50 while searching is cheaper than a scan', async () => {
    // 100 emails: two searches, fewer calls than the cheapest scan (a count and one page).
    const emails = sandbox.world.customers.slice(0, 100).map((c) => c.person.email);
    const found = await shopify.findCustomersByEmail(testRequest(), emails);
    const buyers = sandbox.world.customers.slice(0, 100).filter((c) => c.shop);
    expect([...found.values()].filter((c) => c !== null)).toHaveLength(buyers.length);
    const stats = await sandbox.stats();
    expect(stats.endpoints[SEARCH]?.count).toBe(2);
    expect(stats.total).toBe(2);
  });

  it("should list a customer's orders newest first, whatever their status", async () => {
    const buyer = sandbox.world.customers.find(
      (c) => (sandbox.world.ordersByCustomer.get(c.person.index)?.length ?? 0) >= 4,
    )!;
    const newestFirst = [...sandbox.world.ordersByCustomer.get(buyer.person.index)!].reverse();
    const all = await shopify.listCustomerOrders(testRequest(), String(buyer.shop!.id), { limit: 100 });
    expect(all.map((o) => o.id)).toEqual(newestFirst.map((o) => String(o.id)));
    const two = await shopify.listCustomerOrders(testRequest(), String(buyer.shop!.id), { limit: 2 });
    expect(two.map((o) => o.id)).toEqual(newestFirst.slice(0, 2).map((o) => String(o.id)));
    expect(await shopify.listCustomerOrders(testRequest(), '1', { limit: 5 })).toEqual([]);
  });

  it('should normalise money, dates and statuses into the graph conventions', async () => {
    const truth = sandbox.world.orders.find((o) => o.landingSite.includes('utm_campaign='))!;
    const utm = new URL(truth.landingSite, 'https://shop.example').searchParams;
    const rawBody = (await (await raw(`/orders/${truth.id}.json`)).json()) as {
      order: { created_at: string };
    };
    expect(rawBody.order.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$/);

    const buyer = sandbox.world.customers[truth.customerIndex]!;
    const orders = await shopify.listCustomerOrders(testRequest(), String(buyer.shop!.id), { limit: 100 });
    const order = orders.find((o) => o.id === String(truth.id));
    expect(order).toEqual({
      id: String(truth.id),
      name: `#${truth.number}`,
      createdAt: new Date(stored(truth.createdAt)).toISOString(),
      totalPrice: { amount: dollars(truth.totalCents), currency: 'USD' },
      financialStatus: truth.financialStatus.toUpperCase(),
      utm: {
        source: utm.get('utm_source'),
        medium: utm.get('utm_medium'),
        campaign: utm.get('utm_campaign'),
        content: utm.get('utm_content'),
        term: null,
      },
      customerId: String(buyer.shop!.id),
    });
    expect(order?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);

    const customer = await shopify.getCustomer(testRequest(), String(buyer.shop!.id));
    expect(customer?.lifetimeValue).toEqual({
      amount: dollars(totalSpentCents(sandbox.world.ordersByCustomer.get(buyer.person.index)!)),
      currency: 'USD',
    });
    expect(await shopify.getCustomer(testRequest(), '99')).toBeNull();
    expect(await shopify.getShop(testRequest())).toEqual({ currency: 'USD' });
  });

  it('should parse the UTM parameters of each landing site', async () => {
    const minMs = dayStart(addDays(TEST_ANCHOR_DATE, -89));
    const maxMs = dayEnd(TEST_ANCHOR_DATE);
    const orders = await shopify.listOrders(testRequest(), { createdAtMinMs: minMs, createdAtMaxMs: maxMs });
    const byId = new Map(sandbox.world.orders.map((o) => [String(o.id), o]));
    const withCampaign = orders.filter((o) => o.utm?.campaign);
    expect(withCampaign.length).toBeGreaterThan(0);
    for (const order of orders) {
      const params = new URL(byId.get(order.id)!.landingSite, 'https://shop.example').searchParams;
      const source = params.get('utm_source');
      expect(order.utm).toEqual(
        source === null
          ? null
          : {
              source,
              medium: params.get('utm_medium'),
              campaign: params.get('utm_campaign'),
              content: params.get('utm_content'),
              term: null,
            },
      );
    }
    const keys = new Set(sandbox.world.campaigns.map((c) => c.key));
    expect(withCampaign.every((o) => keys.has(o.utm!.campaign!))).toBe(true);
  });

  it('should turn a wrong token into UPSTREAM_UNAUTHORIZED without echoing the token', async () => {
    const wrong = connect({ accessToken: 'shpat_not-the-demo-token-at-all' });
    const error = await wrong.getShop(testRequest()).catch((e: unknown) => e);
    await wrong.close();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAUTHORIZED',
      platform: 'shopify',
      upstreamStatus: 401,
      endpoint: 'GET /shop.json',
    });
    expect((error as UpstreamError).message).toContain('Invalid API key or access token');
    expect((error as UpstreamError).message).not.toContain('not-the-demo-token-at-all');
  });

  it('should read both shapes of Shopify error bodies', () => {
    const protocol = shopifyProtocol('shpat_unused0000');
    expect(protocol.describeFailure(404, { errors: 'Not Found' }, {}).message).toBe('Not Found');
    expect(
      protocol.describeFailure(
        422,
        { errors: { email: ['has already been taken'], phone: 'is invalid' } },
        {},
      ).message,
    ).toBe('email: has already been taken; phone: is invalid');
    expect(protocol.describeFailure(429, { errors: 'Exceeded' }, { 'retry-after': '2.0' })).toMatchObject({
      rateLimited: true,
      retryAfterSeconds: 2,
    });
    expect(protocol.describeFailure(502, '<html>bad gateway</html>', {}).message).toBe('HTTP 502');
  });

  it('should fill the leaky bucket at 40 calls and answer the 41st with 429 and Retry-After', async () => {
    const limited = await startSandbox('shopify', { world: sandbox.world });
    try {
      const responses = await Promise.all(
        Array.from({ length: 41 }, () =>
          fetch(`${limited.baseUrl}/shop.json`, { headers: { 'x-shopify-access-token': TOKEN } }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(40);
      const rejected = responses.find((r) => r.status === 429)!;
      expect(rejected.headers.get('retry-after')).toBe('2.0');
      expect(rejected.headers.get('x-shopify-shop-api-call-limit')).toBe('40/40');
      expect(rejected.headers.get('x-shopify-api-version')).toBe('2026-10');
      expect(await rejected.json()).toEqual({
        errors:
          'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
      });
      const used = responses
        .filter((r) => r.status === 200)
        .map((r) => Number(r.headers.get('x-shopify-shop-api-call-limit')?.split('/')[0]));
      expect(Math.max(...used)).toBe(40);
      await Promise.all(responses.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
    } finally {
      await limited.close();
    }
  });

  it('should wait out an injected 429 for its Retry-After and succeed', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, retryAfterSeconds: 1, remaining: 1, endpoints: [SHOP] });
    const started = Date.now();
    expect(await shopify.getShop(testRequest())).toEqual({ currency: 'USD' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect((await sandbox.stats()).endpoints[SHOP]?.statuses).toEqual({ '200': 1, '429': 1 });
  });

  it('should report a 429 that outlasts the retries as UPSTREAM_RATE_LIMITED', async () => {
    await sandbox.setFaults({ rateLimitRate: 1, retryAfterSeconds: 0, endpoints: [SHOP] });
    const error = await shopify.getShop(testRequest()).catch((e: unknown) => e);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'shopify',
      upstreamStatus: 429,
    });
    expect((await sandbox.stats()).endpoints[SHOP]?.count).toBe(3);
  });

  it('should reject a malformed payload with an error naming the platform, endpoint and field', async () => {
    await sandbox.setFaults({ malformedRate: 1, endpoints: [ORDERS] });
    const error = await shopify
      .listOrders(testRequest(), {
        createdAtMinMs: dayStart(TEST_ANCHOR_DATE),
        createdAtMaxMs: dayEnd(TEST_ANCHOR_DATE),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions['code']).toBe('UPSTREAM_BAD_RESPONSE');
    expect((error as UpstreamError).message).toMatch(
      /^shopify returned an unexpected payload from GET \/orders\.json: orders: /,
    );
  });
});

describe('parseUtm', () => {
  it('should read the five UTM parameters from a landing path', () => {
    expect(
      parseUtm(
        '/products/trail-pack?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring-sale&utm_content=hero&utm_term=tent',
      ),
    ).toEqual({
      source: 'facebook',
      medium: 'paid_social',
      campaign: 'spring-sale',
      content: 'hero',
      term: 'tent',
    });
  });

  it('should read a full URL and leave absent parameters null', () => {
    expect(
      parseUtm('https://demo-outdoor-co.com/collections/all?utm_campaign=fall%20drop&ref=abc#top'),
    ).toEqual({
      source: null,
      medium: null,
      campaign: 'fall drop',
      content: null,
      term: null,
    });
  });

  it('should answer null when the link carries no UTM parameter', () => {
    expect(parseUtm('/products/trail-pack')).toBeNull();
    expect(parseUtm('/products/trail-pack?variant=42&utm_source=')).toBeNull();
    expect(parseUtm('')).toBeNull();
    expect(parseUtm(null)).toBeNull();
  });

  it('should decode plus signs, take the first value and accept HTML-escaped ampersands', () => {
    expect(parseUtm('/?utm_source=news+letter&amp;utm_medium=email&utm_source=other')).toMatchObject({
      source: 'news letter',
      medium: 'email',
    });
  });

  it('should not throw on junk', () => {
    expect(parseUtm('/?utm_campaign=%E0%A4%A&utm_source=%')).toEqual({
      source: '%',
      medium: null,
      campaign: '%E0%A4%A',
      content: null,
      term: null,
    });
    expect(parseUtm('??&&==&utm_medium==x')).toMatchObject({ medium: '=x' });
  });
});
