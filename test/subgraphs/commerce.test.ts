import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../../lib/auth/scopes.js';
import { addDays } from '../../lib/dates.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { totalSpentCents, type Order } from '../../sandboxes/world/world.js';
import { buildCommerceSubgraph, commerceConfigFromEnv } from '../../subgraphs/commerce/index.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

interface GraphQLBody<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

interface CustomerData {
  email: string | null;
  ordersCount: number;
  lifetimeValue: { amount: string; currency: string } | null;
  lastOrderAt: string | null;
  orders: { id: string; name: string; createdAt: string; financialStatus: string }[];
}

interface PerformanceData {
  key: string;
  commerce: { orders: number; revenue: { amount: string; currency: string } };
  roas: number | null;
}

const CUSTOMERS = /* GraphQL */ `
  query ($representations: [_Any!]!, $first: Int!) {
    _entities(representations: $representations) {
      ... on Customer {
        email
        ordersCount
        lifetimeValue {
          amount
          currency
        }
        lastOrderAt
        orders(first: $first) {
          id
          name
          createdAt
          financialStatus
        }
      }
    }
  }
`;

/**
 * The least scopes CUSTOMERS needs: the customer's, `pii:read` for `email` (a key field, read back
 * here to tell the entities apart, needs what it declares), and the shop figures.
 */
const CUSTOMERS_SCOPES: Scope[] = ['crm:read', 'pii:read', 'commerce:read'];

const PERFORMANCE = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on CampaignPerformance {
        key
        commerce {
          orders
          revenue {
            amount
            currency
          }
        }
        roas
      }
    }
  }
`;

/** The least scopes PERFORMANCE needs: `commerce` and `roas`, which also needs the ads scope. */
const PERFORMANCE_SCOPES: Scope[] = ['campaigns:read', 'ads:read'];

const ORDERS = 'GET /admin/api/{version}/orders.json';
const SEARCH = 'GET /admin/api/{version}/customers/search.json';
const SHOP = 'GET /admin/api/{version}/shop.json';

const dollars = (cents: number) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();

describe('commerce subgraph against the Shopify sandbox', () => {
  let sandbox: RunningSandbox;
  let subgraph: SubgraphServer;
  let listening: Listening;
  let gateway: GatewayKeys;

  /** Posts `text` with a gateway token carrying `scopes`. */
  const query = async <T>(
    scopes: readonly Scope[],
    text: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLBody<T>> => {
    const response = await fetch(`${listening.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gateway.mint(scopes)}` },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await response.json()) as GraphQLBody<T>;
  };

  /** Orders of the range (UTC days) landing with the key, minus refunded and voided ones, from the world. */
  const attributed = (key: string, since: string, until: string): Order[] =>
    sandbox.world.orders.filter((o) => {
      const at = Math.floor(o.createdAt / 1000) * 1000;
      const campaign = new URL(o.landingSite, 'https://shop.example').searchParams.get('utm_campaign');
      return (
        at >= Date.parse(`${since}T00:00:00.000Z`) &&
        at <= Date.parse(`${until}T23:59:59.999Z`) &&
        campaign === key &&
        o.financialStatus !== 'refunded' &&
        o.financialStatus !== 'voided'
      );
    });

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { customers: 400 });
    gateway = await gatewayKeysFor('commerce');
    const config = commerceConfigFromEnv({
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
      COMMERCE_PORT: '0',
      SHOPIFY_BASE_URL: sandbox.baseUrl,
      SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
      UPSTREAM_TIMEOUT_MS: '5000',
      UPSTREAM_MAX_RETRIES: '2',
    });
    subgraph = await buildCommerceSubgraph(config, silentLogger);
    listening = await listen(subgraph.server, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await listening.close();
    await subgraph.stop();
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.setFaults({});
    await sandbox.resetStats();
  });

  it("should read the store's leaky bucket from SHOPIFY_BUCKET_SIZE and SHOPIFY_LEAK_PER_S, Standard plan by default", () => {
    const base = {
      SHOPIFY_BASE_URL: sandbox.baseUrl,
      SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
    };
    expect(commerceConfigFromEnv(base).shopify).toMatchObject({ bucketSize: 40, leakPerSecond: 2 });
    expect(
      commerceConfigFromEnv({ ...base, SHOPIFY_BUCKET_SIZE: '400', SHOPIFY_LEAK_PER_S: '20' }).shopify,
    ).toMatchObject({ bucketSize: 400, leakPerSecond: 20 });
  });

  it('should resolve customers by email with one search, and empty figures for people who never bought', async () => {
    const buyer = sandbox.world.customers.find(
      (c) => (sandbox.world.ordersByCustomer.get(c.person.index)?.length ?? 0) >= 3,
    )!;
    const browser = sandbox.world.customers.find((c) => !c.shop)!;
    const body = await query<{ _entities: CustomerData[] }>(CUSTOMERS_SCOPES, CUSTOMERS, {
      first: 2,
      representations: [
        { __typename: 'Customer', email: buyer.person.email.toUpperCase() },
        { __typename: 'Customer', email: browser.person.email },
        { __typename: 'Customer', email: 'ghost@example.invalid' },
      ],
    });
    expect(body.errors).toBeUndefined();
    const orders = sandbox.world.ordersByCustomer.get(buyer.person.index)!;
    const newestFirst = [...orders].reverse();
    expect(body.data?._entities[0]).toEqual({
      email: buyer.person.email,
      ordersCount: orders.length,
      lifetimeValue: { amount: dollars(totalSpentCents(orders)), currency: 'USD' },
      lastOrderAt: wholeSecond(newestFirst[0]!.createdAt),
      orders: newestFirst.slice(0, 2).map((o) => ({
        id: String(o.id),
        name: `#${o.number}`,
        createdAt: wholeSecond(o.createdAt),
        financialStatus: o.financialStatus.toUpperCase(),
      })),
    });
    const empty = { ordersCount: 0, lifetimeValue: null, lastOrderAt: null, orders: [] };
    expect(body.data?._entities[1]).toEqual({ email: browser.person.email, ...empty });
    expect(body.data?._entities[2]).toEqual({ email: 'ghost@example.invalid', ...empty });
    const stats = await sandbox.stats();
    expect(stats.endpoints[SEARCH]?.count).toBe(1);
    expect(stats.endpoints['GET /admin/api/{version}/customers/{id}/orders.json']?.count).toBe(1);
  });

  it('should refuse orders(first:) outside 1..100 with BAD_USER_INPUT', async () => {
    const buyer = sandbox.world.customers.find((c) => c.shop)!;
    for (const first of [0, 101]) {
      const body = await query<{ _entities: CustomerData[] }>(CUSTOMERS_SCOPES, CUSTOMERS, {
        first,
        representations: [{ __typename: 'Customer', email: buyer.person.email }],
      });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'first' });
    }
  });

  it('should add up attributed orders per campaign key from one listing of the range, with roas', async () => {
    const since = addDays(TEST_ANCHOR_DATE, -59);
    const until = TEST_ANCHOR_DATE;
    const keys = sandbox.world.campaigns.map((c) => c.key).slice(0, 4);
    const spend = { amount: '250.00', currency: 'USD' };
    const body = await query<{ _entities: PerformanceData[] }>(PERFORMANCE_SCOPES, PERFORMANCE, {
      representations: keys.map((key) => ({
        __typename: 'CampaignPerformance',
        key,
        since,
        until,
        ads: { spend },
      })),
    });
    expect(body.errors).toBeUndefined();
    const withOrders = keys.filter((key) => attributed(key, since, until).length > 0);
    expect(withOrders.length).toBeGreaterThan(0);
    keys.forEach((key, i) => {
      const orders = attributed(key, since, until);
      const cents = orders.reduce((sum, o) => sum + o.totalCents, 0);
      expect(body.data?._entities[i]).toEqual({
        key,
        commerce: { orders: orders.length, revenue: { amount: dollars(cents), currency: 'USD' } },
        roas: cents / 25_000,
      });
    });
    const stats = await sandbox.stats();
    const inRange = sandbox.world.orders.filter(
      (o) =>
        o.createdAt >= Date.parse(`${since}T00:00:00.000Z`) &&
        o.createdAt <= Date.parse(`${until}T23:59:59.999Z`),
    ).length;
    expect(stats.endpoints[ORDERS]?.count).toBe(Math.ceil(inRange / 250));
  });

  it('should answer zero revenue in the shop currency, and a null roas for zero spend or another currency', async () => {
    const since = addDays(TEST_ANCHOR_DATE, -6);
    const until = TEST_ANCHOR_DATE;
    const body = await query<{ _entities: PerformanceData[] }>(PERFORMANCE_SCOPES, PERFORMANCE, {
      representations: [
        {
          __typename: 'CampaignPerformance',
          key: 'no-such-campaign',
          since,
          until,
          ads: { spend: { amount: '0.00', currency: 'USD' } },
        },
        {
          __typename: 'CampaignPerformance',
          key: 'no-such-campaign',
          since,
          until,
          ads: { spend: { amount: '10.00', currency: 'EUR' } },
        },
      ],
    });
    expect(body.errors).toBeUndefined();
    for (const entity of body.data?._entities ?? []) {
      expect(entity).toEqual({
        key: 'no-such-campaign',
        commerce: { orders: 0, revenue: { amount: '0.00', currency: 'USD' } },
        roas: null,
      });
    }
    expect(body.data?._entities).toHaveLength(2);
    expect((await sandbox.stats()).endpoints[SHOP]?.count).toBe(1);
  });

  it('should refuse a range that ends before it starts with BAD_USER_INPUT', async () => {
    const body = await query<{ _entities: PerformanceData[] }>(PERFORMANCE_SCOPES, PERFORMANCE, {
      representations: [
        {
          __typename: 'CampaignPerformance',
          key: sandbox.world.campaigns[0]!.key,
          since: TEST_ANCHOR_DATE,
          until: addDays(TEST_ANCHOR_DATE, -1),
        },
      ],
    });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'until' });
    expect((await sandbox.stats()).total).toBe(0);
  });

  it('should report a Shopify failure with its code, platform and subgraph', async () => {
    await sandbox.setFaults({ errorRate: 1, errorStatus: 503, endpoints: [SEARCH] });
    const body = await query<{ _entities: CustomerData[] }>(CUSTOMERS_SCOPES, CUSTOMERS, {
      first: 1,
      representations: [{ __typename: 'Customer', email: sandbox.world.customers[0]!.person.email }],
    });
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      platform: 'shopify',
      subgraph: 'commerce',
    });
  });
});
