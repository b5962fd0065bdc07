import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { lifecycleStageOf } from '../../platforms/hubspot/client/records.js';
import { addDays } from '../../lib/dates.js';
import { totalSpentCents, type Customer, type World } from '../../sandboxes/world/world.js';
import {
  CUSTOMERS,
  DASHBOARD,
  PROFILE,
  type CustomersData,
  type DashboardRow,
  type ProfileData,
} from '../helpers/operations.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';

const cents = (value: number) => (value / 100).toFixed(2);

/** What the world says a customer's commerce fields must be. */
function commerceTruth(world: World, customer: Customer) {
  const orders = world.ordersByCustomer.get(customer.person.index) ?? [];
  return {
    ordersCount: orders.length,
    lifetimeValue: customer.shop ? { amount: cents(totalSpentCents(orders)), currency: 'USD' } : null,
  };
}

describe('the federated graph over HTTP (gateway -> subgraphs -> sandboxes)', () => {
  let stack: Stack;
  let url: string;

  beforeAll(async () => {
    stack = await startTestStack();
    url = stack.gatewayUrl;
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should answer /health with 200 once every subgraph answers, naming them only to metrics:read', async () => {
    const bare = await fetch(`${stack.origins.gateway}/health`);
    expect(bare.status).toBe(200);
    expect(await bare.json()).toEqual({ status: 'ok' });
    const denied = await fetch(`${stack.origins.gateway}/health`, { headers: as('reporting-dashboard') });
    expect(denied.status).toBe(403);
    const response = await fetch(`${stack.origins.gateway}/health`, { headers: as('admin') });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      supergraphLoaded: true,
      subgraphs: {
        crm: { ok: true },
        email: { ok: true },
        commerce: { ok: true },
        ads: { ok: true },
        messaging: { ok: true },
        events: { ok: true },
      },
    });
  });

  it('should list Customers(first: 5) with fields from crm, email and commerce', async () => {
    const { status, body } = await graphql<CustomersData>(
      url,
      CUSTOMERS,
      { first: 5 },
      as('personalization-service'),
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const expected = stack.world.customers.slice(0, 5).map((c) => ({
      id: c.crm.id,
      email: c.person.email,
      lifecycleStage: lifecycleStageOf(c.crm.lifecycleStage),
      emailSubscription: c.audience ? { status: c.audience.status.toUpperCase() } : null,
      ...commerceTruth(stack.world, c),
    }));
    expect(body.data?.customers.edges.map((e) => e.node)).toEqual(expected);
    expect(body.data?.customers.pageInfo.hasNextPage).toBe(true);
  });

  it('should continue from endCursor without overlap or gap', async () => {
    const first = await graphql<CustomersData>(url, CUSTOMERS, { first: 150 }, as('personalization-service'));
    const second = await graphql<CustomersData>(
      url,
      CUSTOMERS,
      {
        first: 100,
        after: first.body.data?.customers.pageInfo.endCursor,
      },
      as('personalization-service'),
    );
    const fromMiddle = await graphql<CustomersData>(
      url,
      CUSTOMERS,
      {
        first: 3,
        after: first.body.data?.customers.edges[41]?.cursor,
      },
      as('personalization-service'),
    );
    const ids = [
      ...(first.body.data?.customers.edges ?? []),
      ...(second.body.data?.customers.edges ?? []),
    ].map((e) => e.node.id);
    expect(ids).toEqual(stack.world.customers.slice(0, 250).map((c) => c.crm.id));
    expect(fromMiddle.body.data?.customers.edges.map((e) => e.node.id)).toEqual(
      stack.world.customers.slice(42, 45).map((c) => c.crm.id),
    );
  });

  it('should end the listing with hasNextPage false', async () => {
    const all = await graphql<CustomersData>(url, CUSTOMERS, { first: 500 }, as('personalization-service'));
    expect(all.body.data?.customers.edges).toHaveLength(400);
    expect(all.body.data?.customers.pageInfo.hasNextPage).toBe(false);
  });

  it('should answer Profile for the first customer with subscription and lifetime value', async () => {
    const customer = stack.world.customers.find((c) => c.audience && c.shop)!;
    const { body } = await graphql<ProfileData>(
      url,
      PROFILE,
      { email: customer.person.email },
      as('personalization-service'),
    );
    expect(body.errors).toBeUndefined();
    const profile = body.data?.customer;
    const orders = [...(stack.world.ordersByCustomer.get(customer.person.index) ?? [])].sort(
      (a, b) => b.createdAt - a.createdAt,
    );
    expect(profile).toMatchObject({
      id: customer.crm.id,
      email: customer.person.email,
      firstName: customer.person.firstName,
      lastName: customer.person.lastName,
      emailSubscription: {
        status: customer.audience!.status.toUpperCase(),
        memberRating: customer.audience!.memberRating,
      },
      emailEngagement: {
        avgOpenRate: customer.audience!.avgOpenRate,
        avgClickRate: customer.audience!.avgClickRate,
      },
      ...commerceTruth(stack.world, customer),
      // Shopify timestamps have whole seconds.
      lastOrderAt: new Date(Math.floor(orders[0]!.createdAt / 1000) * 1000).toISOString(),
    });
    expect(profile?.orders?.map((o) => o.id)).toEqual(orders.slice(0, 3).map((o) => String(o.id)));
    expect(profile?.lists.map((l) => l.id).sort()).toEqual(customer.crm.lists.map((l) => l.listId).sort());
  });

  it('should give null and zero, not errors, to a customer with no list entry and no orders', async () => {
    const customer = stack.world.customers.find((c) => !c.audience && !c.shop)!;
    const { body } = await graphql<ProfileData>(
      url,
      PROFILE,
      { email: customer.person.email },
      as('personalization-service'),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data?.customer).toMatchObject({
      emailSubscription: null,
      emailEngagement: null,
      ordersCount: 0,
      lifetimeValue: null,
      lastOrderAt: null,
      orders: [],
    });
  });

  it('should answer null for a customer nobody has', async () => {
    const { body } = await graphql<ProfileData>(
      url,
      PROFILE,
      { email: 'nobody@example.invalid' },
      as('personalization-service'),
    );
    expect(body).toEqual({ data: { customer: null } });
  });

  it('should answer Dashboard over the last 30 days with spend, email stats, revenue and roas = revenue / spend', async () => {
    const since = addDays(TEST_ANCHOR_DATE, -29);
    const { body } = await graphql<{ campaignPerformance: DashboardRow[] }>(
      url,
      DASHBOARD,
      { since, until: TEST_ANCHOR_DATE },
      as('reporting-dashboard'),
    );
    expect(body.errors).toBeUndefined();
    const rows = body.data?.campaignPerformance ?? [];
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const start = Date.parse(`${since}T00:00:00Z`);
    const end = Date.parse(`${TEST_ANCHOR_DATE}T23:59:59.999Z`);
    for (const row of rows) {
      const spend = stack.world.adCampaigns
        .filter((a) => a.key === row.key)
        .flatMap((a) => a.daily)
        .filter((d) => d.date >= since && d.date <= TEST_ANCHOR_DATE)
        .reduce((sum, d) => sum + d.spendCents, 0);
      const orders = stack.world.orders.filter(
        (o) =>
          o.createdAt >= start &&
          o.createdAt <= end &&
          o.landingSite.includes(`utm_campaign=${row.key}&`) &&
          o.financialStatus !== 'refunded' &&
          o.financialStatus !== 'voided',
      );
      const revenue = orders.reduce((sum, o) => sum + o.totalCents, 0);
      expect(row).toMatchObject({
        since,
        until: TEST_ANCHOR_DATE,
        ads: { spend: { amount: cents(spend), currency: 'USD' } },
        commerce: { orders: orders.length, revenue: { amount: cents(revenue), currency: 'USD' } },
      });
      expect(row.roas).toBeCloseTo(revenue / spend, 10);
      const sent = stack.world.emailCampaigns.filter(
        (e) => e.key === row.key && new Date(e.sentAt).toISOString().slice(0, 10) >= since && e.sentAt <= end,
      );
      expect(row.email.emailsSent).toBe(sent.reduce((sum, e) => sum + e.emailsSent, 0));
    }
    expect(rows.filter((r) => r.email.emailsSent > 0).length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.commerce.orders > 0).length).toBeGreaterThan(0);
  });

  it('should refuse first outside 1..500 with the same BAD_USER_INPUT sentence as a variable or a literal', async () => {
    const asVariable = await graphql(url, CUSTOMERS, { first: 501 }, as('personalization-service'));
    const asLiteral = await graphql(
      url,
      '{ customers(first: 501) { edges { node { id } } } }',
      {},
      as('personalization-service'),
    );
    for (const { status, body } of [asVariable, asLiteral]) {
      expect(status).toBe(400);
      expect(body.errors).toEqual([
        {
          message: '`first` must be from 1 to 500, got 501.',
          extensions: { code: 'BAD_USER_INPUT', argumentName: 'first' },
        },
      ]);
    }
  });

  it('should refuse an impossible date with BAD_USER_INPUT', async () => {
    const { status, body } = await graphql(
      url,
      DASHBOARD,
      { since: '2026-02-30', until: TEST_ANCHOR_DATE },
      as('reporting-dashboard'),
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(body.errors?.[0]?.message).toMatch(/YYYY-MM-DD/);
  });

  it('should refuse a reversed range with BAD_USER_INPUT from the ads subgraph', async () => {
    const { body } = await graphql(
      url,
      DASHBOARD,
      { since: TEST_ANCHOR_DATE, until: '2026-01-01' },
      as('reporting-dashboard'),
    );
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', subgraph: 'ads' } });
  });

  it('should refuse a garbage cursor with BAD_USER_INPUT', async () => {
    const { body } = await graphql(
      url,
      CUSTOMERS,
      { first: 5, after: 'not-a-cursor' },
      as('personalization-service'),
    );
    expect(body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', subgraph: 'crm' } });
  });

  it('should reject an unknown field with GRAPHQL_VALIDATION_FAILED and no stack', async () => {
    const { status, body } = await graphql(
      url,
      '{ customers(first: 1) { edges { node { password } } } }',
      {},
      as('admin'),
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });

  it('should answer malformed JSON with 400 BAD_REQUEST', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/json' }),
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('should echo the request id it was given', async () => {
    const { headers } = await graphql(
      url,
      '{ __typename }',
      {},
      as('admin', { 'x-request-id': 'e2e-request-42' }),
    );
    expect(headers.get('x-request-id')).toBe('e2e-request-42');
  });
});
