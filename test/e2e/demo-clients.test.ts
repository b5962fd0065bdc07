import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { addDays } from '../../lib/dates.js';
import { as } from '../helpers/clients.js';
import { CUSTOMERS, DASHBOARD, PROFILE } from '../helpers/operations.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';

/** What each demo client gets from the three contract operations (the table in the README). */
describe('the demo clients and the contract operations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  const run = async (
    client: 'reporting-dashboard' | 'personalization-service' | 'marketing-automation' | 'admin',
  ) => {
    const customer = stack.world.customers.find((c) => c.audience && c.shop)!;
    const range = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };
    const [profile, dashboard, customers] = await Promise.all([
      graphql<{ customer: { email: string } | null }>(
        stack.gatewayUrl,
        PROFILE,
        { email: customer.person.email },
        as(client),
      ),
      graphql<{ campaignPerformance: unknown[] }>(stack.gatewayUrl, DASHBOARD, range, as(client)),
      graphql<{ customers: { edges: unknown[] } }>(stack.gatewayUrl, CUSTOMERS, { first: 2 }, as(client)),
    ]);
    const denied = (r: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
      (r.body.errors ?? []).map(
        (e) => `${String(e.extensions?.['code'])} ${String(e.extensions?.['field'])}`,
      );
    return {
      profileEmail: profile.body.data?.customer?.email ?? null,
      profileDenied: denied(profile),
      dashboardRows: dashboard.body.data?.campaignPerformance.length ?? 0,
      dashboardDenied: denied(dashboard),
      customers: customers.body.data?.customers.edges.length ?? 0,
      customersDenied: denied(customers),
      email: customer.person.email,
    };
  };

  it('should give the reporting dashboard campaign performance and nothing personal', async () => {
    const r = await run('reporting-dashboard');
    expect(r).toMatchObject({
      profileEmail: null,
      profileDenied: ['FORBIDDEN Query.customer'],
      dashboardDenied: [],
      customers: 0,
      customersDenied: ['FORBIDDEN Query.customers'],
    });
    expect(r.dashboardRows).toBeGreaterThanOrEqual(5);
  });

  it('should give the personalization service profiles with personal data and no campaign reports', async () => {
    const r = await run('personalization-service');
    expect(r).toMatchObject({
      profileEmail: r.email,
      profileDenied: [],
      dashboardRows: 0,
      dashboardDenied: ['FORBIDDEN Query.campaignPerformance'],
      customers: 2,
      customersDenied: [],
    });
  });

  it('should give marketing automation profiles and orders without personal data', async () => {
    const r = await run('marketing-automation');
    expect(r).toMatchObject({
      profileEmail: null,
      dashboardRows: 0,
      dashboardDenied: ['FORBIDDEN Query.campaignPerformance'],
      customers: 2,
    });
    expect(new Set(r.profileDenied)).toEqual(
      new Set(['FORBIDDEN Customer.email', 'FORBIDDEN Customer.firstName', 'FORBIDDEN Customer.lastName']),
    );
    expect(new Set(r.customersDenied)).toEqual(new Set(['FORBIDDEN Customer.email']));
  });

  it('should join customers to the email and commerce subgraphs by email for a client that may not see email', async () => {
    // The planner fetches `email` from crm to find each customer in email and commerce (keyed by
    // email); the gateway token of that fetch names it planned, so crm gives it to the join only.
    const { body } = await graphql<{
      customers: {
        edges: {
          node: { id: string; ordersCount: number | null; emailSubscription: { status: string } | null };
        }[];
      };
    }>(
      stack.gatewayUrl,
      'query Joined { customers(first: 20) { edges { node { id ordersCount emailSubscription { status } } } } }',
      {},
      as('marketing-automation'),
    );
    expect(body.errors).toBeUndefined();
    const nodes = body.data?.customers.edges.map((e) => e.node) ?? [];
    expect(nodes).toHaveLength(20);
    expect(nodes.some((n) => n.emailSubscription !== null)).toBe(true);
    expect(nodes.every((n) => typeof n.ordersCount === 'number')).toBe(true);
    const emails = stack.world.customers.map((c) => c.person.email);
    const text = JSON.stringify(body);
    expect(emails.filter((email) => text.includes(email))).toEqual([]);
  });

  it('should give the admin everything', async () => {
    const r = await run('admin');
    expect(r).toMatchObject({
      profileEmail: r.email,
      profileDenied: [],
      dashboardDenied: [],
      customers: 2,
      customersDenied: [],
    });
    expect(r.dashboardRows).toBeGreaterThanOrEqual(5);
  });
});
