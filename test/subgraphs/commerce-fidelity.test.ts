import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Scope } from '../../lib/auth/scopes.js';
import { addDays } from '../../lib/dates.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { ShopifyAppInput } from '../../platforms/shopify/sandbox/app.js';
import { buildCommerceSubgraph, commerceConfigFromEnv } from '../../subgraphs/commerce/index.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { silentLogger } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';
import { gatewayKeysFor, type GatewayKeys } from '../helpers/subgraph.js';

interface GraphQLBody<T> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const CUSTOMER = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on Customer {
        ordersCount
        orders(first: 100) {
          id
        }
      }
    }
  }
`;
const PERFORMANCE = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on CampaignPerformance {
        key
        commerce {
          orders
        }
      }
    }
  }
`;
const DAY_MS = 86_400_000;
/** The operator's token (METRICS_TOKEN): `/health` gives the platform's details to it alone. */
const OPERATOR_TOKEN = 'operator-token-for-commerce-health';
const anchorEnd = Date.parse(`${TEST_ANCHOR_DATE}T23:59:59.999Z`);

describe('commerce subgraph: data Shopify withholds from the app', () => {
  let sandbox: RunningSandbox;
  let gateway: GatewayKeys;
  let subgraph: SubgraphServer;
  let listening: Listening;

  const start = async () => {
    const config = commerceConfigFromEnv({
      GATEWAY_TOKEN_JWKS: gateway.jwksEnv,
      COMMERCE_PORT: '0',
      SHOPIFY_BASE_URL: sandbox.baseUrl,
      SHOPIFY_ACCESS_TOKEN: DEMO_CREDENTIALS.shopify.accessToken,
      UPSTREAM_TIMEOUT_MS: '5000',
      UPSTREAM_MAX_RETRIES: '1',
    });
    subgraph = await buildCommerceSubgraph(
      { ...config, auth: { ...config.auth, metricsToken: OPERATOR_TOKEN } },
      silentLogger,
    );
    listening = await listen(subgraph.server, 0, '127.0.0.1');
  };
  const stop = async () => {
    await listening.close();
    await subgraph.stop();
  };
  /** Grants the app `app` in the sandbox, then starts a fresh subgraph (scopes are read once per connector). */
  const grant = async (app: ShopifyAppInput) => {
    const response = await fetch(`${sandbox.origin}/__sandbox/shopify/app`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(app),
    });
    expect(response.status).toBe(200);
    await stop();
    await start();
  };
  const query = async <T>(scopes: Scope[], text: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${listening.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await gateway.mint(scopes)}` },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await response.json()) as GraphQLBody<T>;
  };
  /** A buyer with orders on both sides of the 60-day horizon. */
  const buyerWithOldOrders = () =>
    sandbox.world.customers.find((c) => {
      const orders = sandbox.world.ordersByCustomer.get(c.person.index) ?? [];
      return (
        c.shop &&
        orders.some((o) => o.createdAt < anchorEnd - 70 * DAY_MS) &&
        orders.some((o) => o.createdAt > anchorEnd - 50 * DAY_MS)
      );
    })!;

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { customers: 300 });
    gateway = await gatewayKeysFor('commerce');
    await start();
  });
  afterAll(async () => {
    await stop();
    await sandbox.close();
  });
  beforeEach(async () => {
    await grant({});
  });

  it('should map redacted customers to null with reason PROTECTED_CUSTOMER_DATA, not to "never bought"', async () => {
    await grant({ protectedCustomerData: 'level1' });
    const buyer = buyerWithOldOrders();
    const body = await query<{ _entities: { ordersCount: number | null }[] }>(
      ['crm:read', 'commerce:read'],
      CUSTOMER,
      { representations: [{ __typename: 'Customer', email: buyer.person.email }] },
    );
    expect(body.data?._entities[0]).toEqual({ ordersCount: null, orders: null });
    const reasons = body.errors?.map((e) => [
      e.path?.join('.'),
      e.extensions?.['code'],
      e.extensions?.['reason'],
    ]);
    expect(reasons).toEqual(
      expect.arrayContaining([
        ['_entities.0.ordersCount', 'UPSTREAM_DATA_WITHHELD', 'PROTECTED_CUSTOMER_DATA'],
        ['_entities.0.orders', 'UPSTREAM_DATA_WITHHELD', 'PROTECTED_CUSTOMER_DATA'],
      ]),
    );
  });

  it('should say READ_ALL_ORDERS_SCOPE_MISSING instead of answering short when orders older than 60 days are needed', async () => {
    await grant({ scopes: ['read_customers', 'read_orders'] });
    const buyer = buyerWithOldOrders();
    const customer = await query<{ _entities: { ordersCount: number | null; orders: unknown }[] }>(
      ['crm:read', 'commerce:read'],
      CUSTOMER,
      { representations: [{ __typename: 'Customer', email: buyer.person.email }] },
    );
    const all = sandbox.world.ordersByCustomer.get(buyer.person.index)!;
    expect(customer.data?._entities[0]).toEqual({ ordersCount: all.length, orders: null });
    expect(customer.errors?.map((e) => [e.path?.join('.'), e.extensions?.['reason']])).toEqual([
      ['_entities.0.orders', 'READ_ALL_ORDERS_SCOPE_MISSING'],
    ]);

    const since = addDays(TEST_ANCHOR_DATE, -89);
    const performance = await query<{ _entities: { commerce: unknown }[] }>(['campaigns:read'], PERFORMANCE, {
      representations: [
        { __typename: 'CampaignPerformance', key: 'spring-sale', since, until: TEST_ANCHOR_DATE },
      ],
    });
    expect(performance.data?._entities[0]?.commerce).toBeNull();
    expect(performance.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_DATA_WITHHELD',
      reason: 'READ_ALL_ORDERS_SCOPE_MISSING',
    });
    expect((await sandbox.stats()).endpoints['GET /admin/api/{version}/orders.json']).toBeUndefined();

    const bare = (await (await fetch(`${listening.origin}/health`)).json()) as Record<string, unknown>;
    expect(bare).toEqual({ status: 'ok', subgraph: 'commerce' });
    const health = (await (
      await fetch(`${listening.origin}/health`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })
    ).json()) as {
      status: string;
      shopify: { missingScopes: string[]; warnings: string[] };
    };
    expect(health.status).toBe('ok');
    expect(health.shopify.missingScopes).toEqual(['read_all_orders']);
    expect(health.shopify.warnings.join(' ')).toMatch(/last 60 days/);
  });

  it('should answer the whole history when read_all_orders is granted', async () => {
    const buyer = buyerWithOldOrders();
    const body = await query<{ _entities: { ordersCount: number; orders: { id: string }[] }[] }>(
      ['crm:read', 'commerce:read'],
      CUSTOMER,
      { representations: [{ __typename: 'Customer', email: buyer.person.email }] },
    );
    expect(body.errors).toBeUndefined();
    const all = sandbox.world.ordersByCustomer.get(buyer.person.index)!;
    expect(body.data?._entities[0]?.orders).toHaveLength(Math.min(100, all.length));
  });
});
