import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SHOPIFY_LIMITS } from '../../platforms/shopify/client/connector.js';
import { createCacheStore, type CacheStore } from '../../lib/cache/store.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { generateWorld, totalSpentCents } from '../../sandboxes/world/world.js';
import { buildCommerceSubgraph, commerceConfigFromEnv } from '../../subgraphs/commerce/index.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

interface GraphQLBody<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

interface CustomerData {
  email: string | null;
  ordersCount: number;
  lifetimeValue: { amount: string; currency: string } | null;
  lastOrderAt: string | null;
}

const CUSTOMERS = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Customer {
        email
        ordersCount
        lifetimeValue {
          amount
          currency
        }
        lastOrderAt
      }
    }
  }
`;

const COUNT = 'GET /admin/api/{version}/customers/count.json';
const LIST = 'GET /admin/api/{version}/customers.json';
const SEARCH = 'GET /admin/api/{version}/customers/search.json';
const ORDERS = 'GET /admin/api/{version}/orders.json';
const CUSTOMER_ORDERS = 'GET /admin/api/{version}/customers/{id}/orders.json';

const world = generateWorld({ seed: 11, customers: 2_000, anchorDate: TEST_ANCHOR_DATE });
/** 500 people: mostly buyers (more than one page of last orders), some who never bought, three unknown. */
const emails = [
  ...world.customers
    .filter((c) => c.shop || c.person.index % 10 === 0)
    .slice(0, 497)
    .map((c) => c.person.email),
  'ghost-1@example.invalid',
  'ghost-2@example.invalid',
  'ghost-3@example.invalid',
];
const buyersAsked = emails.filter((e) => world.byEmail.get(e)?.shop).length;
const scanPages = Math.ceil(world.customers.filter((c) => c.shop).length / SHOPIFY_LIMITS.page);
const lastOrderCalls = Math.ceil(buyersAsked / SHOPIFY_LIMITS.page);

const dollars = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

/** What the subgraph should answer for one email, from the world. */
function expected(email: string): CustomerData {
  const customer = world.byEmail.get(email);
  const orders = customer?.shop ? (world.ordersByCustomer.get(customer.person.index) ?? []) : [];
  const last = orders[orders.length - 1];
  return {
    email,
    ordersCount: orders.length,
    lifetimeValue: customer?.shop ? { amount: dollars(totalSpentCents(orders)), currency: 'USD' } : null,
    lastOrderAt: last ? wholeSecond(last.createdAt) : null,
  };
}

describe('commerce subgraph: 500 customers in one request, batched and cached', () => {
  let sandbox: RunningSandbox;
  let store: CacheStore;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;

  const query = async (representations: unknown[]): Promise<GraphQLBody<{ _entities: CustomerData[] }>> => {
    const response = await fetch(`${listening.origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // The least scopes CUSTOMERS needs: the customer's, `pii:read` for the `email` it reads back
        // (a key field needs what it declares), and the shop figures.
        authorization: `Bearer ${await gateway.mint(['crm:read', 'pii:read', 'commerce:read'])}`,
      },
      body: JSON.stringify({ query: CUSTOMERS, variables: { representations } }),
    });
    return (await response.json()) as GraphQLBody<{ _entities: CustomerData[] }>;
  };

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { world });
    gateway = await gatewayKeysFor('commerce');
    store = createCacheStore({ maxEntries: 50_000, logger: silentLogger });
    const config = commerceConfigFromEnv({
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
      COMMERCE_PORT: '0',
      SHOPIFY_BASE_URL: sandbox.baseUrl,
      SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
      UPSTREAM_TIMEOUT_MS: '5000',
      UPSTREAM_MAX_RETRIES: '2',
    });
    subgraph = await buildCommerceSubgraph(
      {
        ...config,
        cache: { store, ttls: { profile: 60, subscription: 60, orders: 60, campaignReports: 60 } },
      },
      silentLogger,
    );
    listening = await listen(subgraph.server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await listening.close();
    await subgraph.stop();
    await store.close();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.resetStats();
  });

  it(`should answer 500 customers in the order asked with 1 count, ${scanPages} list pages and ${lastOrderCalls} last-order reads, then from the cache`, async () => {
    expect(emails).toHaveLength(500);
    const representations = emails.map((email, i) => ({
      __typename: 'Customer',
      email: i % 5 === 0 ? email.toUpperCase() : email,
    }));
    const cold = await query(representations);
    expect(cold.errors).toBeUndefined();
    expect(cold.data?._entities).toEqual(emails.map(expected));
    expect(cold.data?._entities.filter((c) => c.lifetimeValue === null).length).toBeGreaterThan(3);
    const stats = await sandbox.stats();
    expect(stats.endpoints[COUNT]?.count).toBe(1);
    expect(stats.endpoints[LIST]?.count).toBe(scanPages);
    expect(stats.endpoints[ORDERS]?.count).toBe(lastOrderCalls);
    expect(stats.endpoints[SEARCH]).toBeUndefined();
    expect(stats.endpoints[CUSTOMER_ORDERS]).toBeUndefined();
    expect(stats.total).toBe(1 + scanPages + lastOrderCalls);

    await sandbox.resetStats();
    const warm = await query(representations);
    expect(warm.data).toEqual(cold.data);
    expect((await sandbox.stats()).total).toBe(0);
  });
});
