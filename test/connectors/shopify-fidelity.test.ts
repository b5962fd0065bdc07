import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import { addDays } from '../../lib/dates.js';
import { UpstreamError } from '../../lib/errors.js';
import { createRequestContext } from '../../lib/request-context.js';
import { apiVersionRecord, resetApiVersionRecords } from '../../lib/upstream/api-version.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { ShopifyAppInput } from '../../platforms/shopify/sandbox/app.js';
import { testRequest } from '../helpers/context.js';
import { startSandbox, TEST_ANCHOR_DATE, type RunningSandbox } from '../helpers/sandbox.js';

const TOKEN = DEMO_CREDENTIALS.shopify.accessToken;
const DAY_MS = 86_400_000;
const anchorEnd = Date.parse(`${TEST_ANCHOR_DATE}T23:59:59.999Z`);
const stored = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('Shopify connector: what the app was granted, and the API version served', () => {
  let sandbox: RunningSandbox;
  const connect = () =>
    new ShopifyConnector({ baseUrl: sandbox.baseUrl, accessToken: TOKEN, timeoutMs: 5_000, maxRetries: 1 });
  const grant = async (app: ShopifyAppInput) => {
    const response = await fetch(`${sandbox.origin}/__sandbox/shopify/app`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(app),
    });
    expect(response.status).toBe(200);
  };

  beforeAll(async () => {
    sandbox = await startSandbox('shopify', { customers: 300 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await grant({});
    await sandbox.resetStats();
    resetApiVersionRecords();
  });

  it('should serve only the last 60 days of orders to a token without read_all_orders', async () => {
    await grant({ scopes: ['read_customers', 'read_orders'] });
    const shopify = connect();
    const range = {
      createdAtMinMs: Date.parse(`${addDays(TEST_ANCHOR_DATE, -89)}T00:00:00Z`),
      createdAtMaxMs: anchorEnd,
    };
    const orders = await shopify.listOrders(testRequest(), range);
    const horizon = anchorEnd - 60 * DAY_MS;
    const expected = sandbox.world.orders.filter(
      (o) => stored(o.createdAt) >= range.createdAtMinMs && o.createdAt >= horizon,
    );
    expect(orders.map((o) => o.id)).toEqual(expected.map((o) => String(o.id)));
    expect(
      sandbox.world.orders.some((o) => o.createdAt < horizon && o.createdAt >= range.createdAtMinMs),
    ).toBe(true);
    await shopify.close();
  });

  it('should say READ_ALL_ORDERS_SCOPE_MISSING for orders older than 60 days when the token lacks read_all_orders, and nothing when granted', async () => {
    const shopify = connect();
    const old = Date.now() - 90 * DAY_MS;
    expect(await shopify.ordersWithheld(testRequest(), old)).toBeNull();
    expect((await shopify.grants(testRequest())).missingScopes).toEqual([]);
    await shopify.close();

    await grant({ scopes: ['read_customers', 'read_orders'] });
    const limited = connect();
    const withheld = await limited.ordersWithheld(testRequest(), old);
    expect(withheld?.details).toMatchObject({
      code: 'UPSTREAM_DATA_WITHHELD',
      reason: 'READ_ALL_ORDERS_SCOPE_MISSING',
    });
    expect(withheld?.extensions['reason']).toBe('READ_ALL_ORDERS_SCOPE_MISSING');
    // A question about the last 60 days needs no older orders, and no scope look-up.
    expect(await limited.ordersWithheld(testRequest(), Date.now() - 10 * DAY_MS)).toBeNull();
    expect((await limited.grants(testRequest())).missingScopes).toEqual(['read_all_orders']);
    // The scopes are read once per connector.
    expect((await sandbox.stats()).endpoints['GET /admin/oauth/access_scopes.json']?.count).toBe(2);
    await limited.close();
  });

  it('should answer UPSTREAM_DATA_WITHHELD (PROTECTED_CUSTOMER_DATA) rather than "unknown customer" when Shopify redacts emails', async () => {
    const buyer = sandbox.world.customers.find((c) => c.shop)!;
    const full = connect();
    expect(
      (await full.findCustomersByEmail(testRequest(), [buyer.person.email])).get(buyer.person.email)?.id,
    ).toBe(String(buyer.shop?.id));
    await full.close();

    await grant({ protectedCustomerData: 'level1' });
    const raw = await fetch(`${sandbox.baseUrl}/customers/${buyer.shop?.id}.json`, {
      headers: { 'x-shopify-access-token': TOKEN },
    });
    const { customer } = (await raw.json()) as { customer: Record<string, unknown> };
    expect(customer).toMatchObject({ id: buyer.shop?.id, email: null, first_name: null, last_name: null });
    const redacted = connect();
    const error = await redacted
      .findCustomersByEmail(testRequest(), [buyer.person.email])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).details).toMatchObject({
      code: 'UPSTREAM_DATA_WITHHELD',
      reason: 'PROTECTED_CUSTOMER_DATA',
    });
    expect((await redacted.grants(testRequest())).protectedCustomerData).toBe(false);
    await redacted.close();
  });

  it('should record the API version Shopify served and its deprecation, and warn once', async () => {
    const version = DEMO_CREDENTIALS.shopify.apiVersion;
    await grant({ deprecatedVersions: { [version]: `API version ${version} is deprecated; use 2027-01` } });
    const lines: { level: number; msg: string; deprecatedReason?: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
          done();
        },
      }),
    );
    const shopify = connect();
    for (let i = 0; i < 3; i++)
      await shopify.getShop(createRequestContext(logger, `r${i}`, 5_000)).catch(() => undefined);
    await shopify.countCustomers(createRequestContext(logger, 'r4', 5_000));
    expect(apiVersionRecord('shopify')).toMatchObject({
      inUse: version,
      requested: version,
      deprecatedReason: `API version ${version} is deprecated; use 2027-01`,
    });
    const warnings = lines.filter((l) => l.level === 40 && /deprecated/.test(l.msg));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.deprecatedReason).toBe(`API version ${version} is deprecated; use 2027-01`);
    await shopify.close();
  });

  it('should pin a Shopify API version inside its 12-month support window', () => {
    // Shopify supports each quarterly version for at least 12 months from release (2026-12-04).
    const [year, month] = DEMO_CREDENTIALS.shopify.apiVersion.split('-').map(Number) as [number, number];
    const released = Date.UTC(year, month - 1, 1);
    expect(released + 365 * DAY_MS).toBeGreaterThan(Date.parse('2026-12-04T00:00:00Z'));
  });
});
