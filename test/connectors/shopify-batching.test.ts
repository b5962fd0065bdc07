import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { shopAccountId, ShopifyConnector, SHOPIFY_LIMITS } from '../../platforms/shopify/client/connector.js';
import { RecordCache } from '../../lib/cache/record-cache.js';
import { createCacheStore } from '../../lib/cache/store.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { generateWorld, type Customer } from '../../sandboxes/world/world.js';
import { silentLogger, testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const SEARCH = 'GET /admin/api/{version}/customers/search.json';
const LIST = 'GET /admin/api/{version}/customers.json';
const COUNT = 'GET /admin/api/{version}/customers/count.json';

/** A shop the size of the default sandbox: 2,000 people, about half of whom bought. */
const world = generateWorld({ seed: 11, customers: 2_000, anchorDate: TEST_ANCHOR_DATE });
const shopCustomers = world.customers.filter((c) => c.shop).length;
/** The cheapest paths: searches of 50 emails, or the count and pages of 250 customers. */
const searchCalls = (n: number) => Math.ceil(n / SHOPIFY_LIMITS.emailsPerSearch);
const scanPages = Math.ceil(shopCustomers / SHOPIFY_LIMITS.page);

/** `n` emails: people spread over the whole shop (every fourth one), mixed case, and three nobody has. */
function emailsFor(n: number): string[] {
  const people = world.customers
    .filter((_, i) => i % 4 === 0)
    .slice(0, n - 3)
    .map((c, i) => (i % 3 === 0 ? c.person.email.toUpperCase() : c.person.email));
  return [...people, 'ghost-1@example.invalid', 'ghost-2@example.invalid', 'ghost-3@example.invalid'];
}

/** What the connector should answer for one email, from the world. */
function expected(email: string): { id: string; email: string } | null {
  const customer: Customer | undefined = world.byEmail.get(email.toLowerCase());
  return customer?.shop ? { id: String(customer.shop.id), email: customer.person.email } : null;
}

describe('Shopify connector: customers by email in the fewest calls', () => {
  let sandbox: RunningSandbox;
  const opened: ShopifyConnector[] = [];
  const connect = (cached = false) => {
    const shopify = new ShopifyConnector({
      baseUrl: sandbox.baseUrl,
      accessToken: DEMO_CREDENTIALS.shopify.accessToken,
      timeoutMs: 5_000,
      maxRetries: 2,
      ...(cached
        ? {
            cache: new RecordCache(
              createCacheStore({ maxEntries: 10_000, logger: silentLogger }),
              'shopify',
              shopAccountId(sandbox.baseUrl),
              { profile: 60, subscription: 60, orders: 60, campaignReports: 60 },
            ),
          }
        : {}),
    });
    opened.push(shopify);
    return shopify;
  };
  /** The answer for each email, in the order asked; `missing` when the map has no entry for it. */
  const answers = (
    emails: readonly string[],
    found: Map<string, { id: string; email: string | null } | null>,
  ) =>
    emails.map((email) => {
      const key = email.toLowerCase();
      if (!found.has(key)) return 'missing';
      const customer = found.get(key);
      return customer ? { id: customer.id, email: customer.email } : null;
    });

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { world });
  });
  afterAll(async () => {
    for (const shopify of opened) await shopify.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.resetStats();
  });

  it(`should look up 100 emails cold with ${searchCalls(100)} searches and nothing else`, async () => {
    const emails = emailsFor(100);
    const found = await connect().findCustomersByEmail(testRequest(), emails);
    expect(answers(emails, found)).toEqual(emails.map(expected));
    expect(found.get('ghost-1@example.invalid')).toBeNull();
    const stats = await sandbox.stats();
    expect(stats.endpoints[SEARCH]?.count).toBe(searchCalls(100));
    expect(stats.total).toBe(searchCalls(100));
  });

  it(`should look up 500 emails cold with 1 count and ${scanPages} pages of the customer list (not ${searchCalls(500)} searches)`, async () => {
    const emails = emailsFor(500);
    expect(emails).toHaveLength(500);
    const found = await connect().findCustomersByEmail(testRequest(), emails);
    expect(answers(emails, found)).toEqual(emails.map(expected));
    expect(emails.map(expected).filter((c) => c === null).length).toBeGreaterThan(3);
    const stats = await sandbox.stats();
    expect(stats.endpoints[COUNT]?.count).toBe(1);
    expect(stats.endpoints[LIST]?.count).toBe(scanPages);
    expect(stats.endpoints[SEARCH]).toBeUndefined();
    expect(stats.total).toBe(1 + scanPages);
  });

  it('should cache every customer a scan saw and the emails it did not find, so later look-ups cost nothing', async () => {
    const shopify = connect(true);
    const asked = emailsFor(500);
    await shopify.findCustomersByEmail(testRequest(), asked);
    await sandbox.resetStats();

    const askedSet = new Set(asked.map((e) => e.toLowerCase()));
    const others = world.customers
      .filter((c) => c.shop && !askedSet.has(c.person.email))
      .slice(0, 120)
      .map((c) => c.person.email);
    const absent = asked.filter((e) => expected(e) === null);
    const found = await shopify.findCustomersByEmail(testRequest(), [...others, ...absent]);
    expect(answers(others, found)).toEqual(others.map(expected));
    expect(answers(absent, found)).toEqual(absent.map(() => null));
    expect((await sandbox.stats()).total).toBe(0);
  });
});
