import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shopAccountId, ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import { RecordCache, type RecordTtls } from '../../lib/cache/record-cache.js';
import { createCacheStore } from '../../lib/cache/store.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const SEARCH = 'GET /admin/api/{version}/customers/search.json';
const CUSTOMER_ORDERS = 'GET /admin/api/{version}/customers/{id}/orders.json';
const TTLS: RecordTtls = { profile: 60, subscription: 60, orders: 60, campaignReports: 60 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('Shopify connector record cache', () => {
  let sandbox: RunningSandbox;
  const opened: ShopifyConnector[] = [];
  /** A connector with its own empty cache, so no test sees another's entries. */
  const connect = (ttls: RecordTtls = TTLS, maxRetries = 2) => {
    const baseUrl = sandbox.baseUrl;
    const store = createCacheStore({ maxEntries: 10_000, logger: silentLogger });
    const shopify = new ShopifyConnector({
      baseUrl,
      accessToken: DEMO_CREDENTIALS.shopify.accessToken,
      timeoutMs: 5_000,
      maxRetries,
      cache: new RecordCache(store, 'shopify', shopAccountId(baseUrl), ttls),
    });
    opened.push(shopify);
    return shopify;
  };
  const calls = async () => (await sandbox.stats()).total;
  const buyers = (): Customer[] =>
    sandbox.world.customers.filter(
      (c) => (sandbox.world.ordersByCustomer.get(c.person.index)?.length ?? 0) >= 3,
    );

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { customers: 300 });
  });
  afterAll(async () => {
    for (const shopify of opened) await shopify.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it('should answer a second read of every record type without calling Shopify', async () => {
    const shopify = connect();
    const buyer = buyers()[0]!;
    const browser = sandbox.world.customers.find((c) => !c.shop)!;
    const emails = [buyer.person.email, browser.person.email, 'ghost@example.invalid'];
    const orders = sandbox.world.ordersByCustomer.get(buyer.person.index)!;
    const lastOrderId = String(orders[orders.length - 1]!.id);
    const range = {
      createdAtMinMs: Date.parse(`${addDays(TEST_ANCHOR_DATE, -29)}T00:00:00.000Z`),
      createdAtMaxMs: Date.parse(`${TEST_ANCHOR_DATE}T23:59:59.999Z`),
    };
    const readAll = async () => ({
      customers: await shopify.findCustomersByEmail(testRequest(), emails),
      orders: await shopify.listCustomerOrders(testRequest(), String(buyer.shop!.id), { limit: 5 }),
      createdAt: await shopify.getOrderCreatedAt(testRequest(), [lastOrderId]),
      inRange: await shopify.listOrders(testRequest(), range),
      shop: await shopify.getShop(testRequest()),
    });

    const cold = await readAll();
    expect(await calls()).toBe(5);
    expect(cold.customers.get(buyer.person.email)?.id).toBe(String(buyer.shop!.id));
    expect(cold.customers.get(browser.person.email)).toBeNull();
    expect(cold.createdAt.get(lastOrderId)).toBe(cold.orders[0]!.createdAt);
    await sandbox.resetStats();

    expect(await readAll()).toEqual(cold);
    expect(await calls()).toBe(0);
  });

  it('should serve fewer orders from a larger cached read, and read again when more are asked', async () => {
    const shopify = connect();
    const buyer = buyers()[0]!;
    const count = sandbox.world.ordersByCustomer.get(buyer.person.index)!.length;
    const id = String(buyer.shop!.id);
    const two = await shopify.listCustomerOrders(testRequest(), id, { limit: 2 });
    expect((await shopify.listCustomerOrders(testRequest(), id, { limit: 1 })).map((o) => o.id)).toEqual([
      two[0]!.id,
    ]);
    expect(await calls()).toBe(1);
    // More than cached, then everything the customer has: one more call, after which any limit is known.
    expect(await shopify.listCustomerOrders(testRequest(), id, { limit: count + 5 })).toHaveLength(count);
    expect(await shopify.listCustomerOrders(testRequest(), id, { limit: 100 })).toHaveLength(count);
    expect((await sandbox.stats()).endpoints[CUSTOMER_ORDERS]?.count).toBe(2);
  });

  it('should go back to Shopify for a customer and their orders after invalidateCustomer, and only for them', async () => {
    const shopify = connect();
    const [changed, untouched] = buyers();
    const read = async (customer: Customer) => {
      const found = await shopify.findCustomersByEmail(testRequest(), [customer.person.email]);
      return shopify.listCustomerOrders(testRequest(), found.get(customer.person.email)!.id, { limit: 3 });
    };
    await read(changed!);
    await read(untouched!);
    expect(await calls()).toBe(4);
    await sandbox.resetStats();

    await shopify.invalidateCustomer(changed!.person.email.toUpperCase());
    await read(changed!);
    await read(untouched!);
    const stats = await sandbox.stats();
    expect(stats.endpoints[SEARCH]?.count).toBe(1);
    expect(stats.endpoints[CUSTOMER_ORDERS]?.count).toBe(1);
    expect(stats.total).toBe(2);
  });

  it('should read again once the time to live has passed', async () => {
    const shopify = connect({ ...TTLS, orders: 1 });
    const email = buyers()[0]!.person.email;
    await shopify.findCustomersByEmail(testRequest(), [email]);
    await shopify.findCustomersByEmail(testRequest(), [email]);
    expect(await calls()).toBe(1);
    await sleep(1_200);
    await shopify.findCustomersByEmail(testRequest(), [email]);
    expect(await calls()).toBe(2);
  });

  it('should not cache an error: a failed read is retried upstream, and the success is cached', async () => {
    const shopify = connect(TTLS, 0);
    const buyer = buyers()[1]!;
    await sandbox.setFaults({ errorRate: 1, errorStatus: 500, remaining: 1, endpoints: [SEARCH] });
    const error = await shopify
      .findCustomersByEmail(testRequest(), [buyer.person.email])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_ERROR',
      upstreamStatus: 500,
    });

    const found = await shopify.findCustomersByEmail(testRequest(), [buyer.person.email]);
    expect(found.get(buyer.person.email)?.id).toBe(String(buyer.shop!.id));
    await shopify.findCustomersByEmail(testRequest(), [buyer.person.email]);
    expect((await sandbox.stats()).endpoints[SEARCH]).toEqual({ count: 2, statuses: { '200': 1, '500': 1 } });
  });
});
