import { afterEach, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { PROFILE } from '../helpers/operations.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack, type TestStackOptions } from '../helpers/stack.js';

/**
 * One platform failing must cost only its own fields: the errors say which platform failed and
 * why, and the other subgraphs' data still arrives.
 */
describe('upstream faults through the whole graph', () => {
  let stack: Stack | undefined;
  const start = async (options: TestStackOptions = {}) => {
    stack = await startTestStack({ responseCache: false, ...options });
    return stack;
  };
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  const subscribedShopper = (s: Stack) => s.world.customers.find((c) => c.audience && c.shop)!;

  it('should return crm and commerce fields and name mailchimp when the email platform is down', async () => {
    const s = await start();
    s.sandboxes.mailchimp.faults.set({ errorRate: 1, errorStatus: 500 });
    const customer = subscribedShopper(s);
    const { status, body } = await graphql(
      s.gatewayUrl,
      PROFILE,
      { email: customer.person.email },
      as('personalization-service'),
    );
    expect(status).toBe(200);
    const data = body.data as { customer: Record<string, unknown> };
    expect(data.customer).toMatchObject({
      id: customer.crm.id,
      email: customer.person.email,
      emailSubscription: null,
      emailEngagement: null,
    });
    expect(data.customer['ordersCount']).toBe(s.world.ordersByCustomer.get(customer.person.index)?.length);
    expect(body.errors?.length).toBeGreaterThan(0);
    for (const error of body.errors ?? []) {
      expect(error.extensions).toMatchObject({
        code: 'UPSTREAM_ERROR',
        platform: 'mailchimp',
        subgraph: 'email',
        upstreamStatus: 500,
      });
      expect(error.path?.[0]).toBe('customer');
    }
  });

  it('should open the mailchimp breaker after sustained failure and answer fast with UPSTREAM_UNAVAILABLE', async () => {
    const s = await start();
    s.sandboxes.mailchimp.faults.set({ errorRate: 1, errorStatus: 503 });
    const members = s.world.customers.filter((c) => c.audience).slice(0, 8);
    for (const member of members.slice(0, 6))
      await graphql(s.gatewayUrl, PROFILE, { email: member.person.email }, as('personalization-service'));
    const callsBefore = s.sandboxes.mailchimp.stats.snapshot().total;
    const { body } = await graphql(
      s.gatewayUrl,
      PROFILE,
      { email: members[7]!.person.email },
      as('personalization-service'),
    );
    expect(s.sandboxes.mailchimp.stats.snapshot().total).toBe(callsBefore);
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      platform: 'mailchimp',
      upstreamCode: 'CIRCUIT_OPEN',
      subgraph: 'email',
    });
    expect((body.data as { customer: { id: string } }).customer.id).toBe(members[7]!.crm.id);
  });

  it('should wait out a 429 with Retry-After and answer without an error', async () => {
    const s = await start();
    s.sandboxes.shopify.faults.set({ rateLimitRate: 1, remaining: 1, retryAfterSeconds: 1 });
    const customer = subscribedShopper(s);
    const { body } = await graphql(
      s.gatewayUrl,
      PROFILE,
      { email: customer.person.email },
      as('personalization-service'),
    );
    expect(body.errors).toBeUndefined();
    const statuses = Object.values(s.sandboxes.shopify.stats.snapshot().endpoints).flatMap((e) =>
      Object.keys(e.statuses),
    );
    expect(statuses).toContain('429');
  });

  it('should retry 500s and then report the platform when they persist', async () => {
    const s = await start();
    s.sandboxes.hubspot.faults.set({
      errorRate: 1,
      errorStatus: 500,
      endpoints: ['POST /crm/v3/objects/contacts/batch/read'],
    });
    const { body } = await graphql(
      s.gatewayUrl,
      PROFILE,
      { email: s.world.customers[0]!.person.email },
      as('personalization-service'),
    );
    expect(body.data).toEqual({ customer: null });
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_ERROR',
      platform: 'hubspot',
      subgraph: 'crm',
      upstreamStatus: 500,
    });
    // One call and three retries (UPSTREAM_MAX_RETRIES in the test stack).
    expect(
      s.sandboxes.hubspot.stats.snapshot().endpoints['POST /crm/v3/objects/contacts/batch/read']?.count,
    ).toBe(4);
  });

  it('should time out a slow platform and still answer the rest', async () => {
    const s = await start({ upstreamTimeoutMs: 300, upstreamMaxRetries: 0 });
    s.sandboxes.mailchimp.faults.set({ latencyMs: 1_500 });
    const customer = subscribedShopper(s);
    const { body } = await graphql(
      s.gatewayUrl,
      PROFILE,
      { email: customer.person.email },
      as('personalization-service'),
    );
    expect((body.data as { customer: { id: string; emailSubscription: unknown } }).customer).toMatchObject({
      id: customer.crm.id,
      emailSubscription: null,
    });
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      platform: 'mailchimp',
      subgraph: 'email',
    });
    expect(body.errors?.[0]?.message).toMatch(/mailchimp: did not answer within 300 ms/);
  });
});
