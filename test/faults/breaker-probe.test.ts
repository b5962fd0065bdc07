import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { PROFILE, type ProfileData } from '../helpers/operations.js';
import { graphql, startTestStack, type GraphQLResponse } from '../helpers/stack.js';

/**
 * Issue 12, point 2: while a platform's breaker is half-open, its own background probe (a cheap
 * read: Shopify's `GET /shop.json`) decides whether the platform is back, and user requests are
 * refused at once with the breaker's error. Counted at the Shopify sandbox: until the probe has
 * succeeded, no user request reaches Shopify.
 */
const PROBE_ENDPOINT = 'GET /admin/api/{version}/shop.json';
const COMMERCE_FIELDS = ['ordersCount', 'lifetimeValue', 'lastOrderAt', 'orders'] as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The upstream codes of the errors on the commerce fields of a Profile. */
function commerceErrorCodes(body: GraphQLResponse<ProfileData>['body']): string[] {
  return (body.errors ?? [])
    .filter((e) => e.extensions?.['subgraph'] === 'commerce')
    .map((e) => String(e.extensions?.['upstreamCode'] ?? e.extensions?.['code']));
}

describe('a half-open breaker probes on its own', () => {
  let stack: Stack;
  let email: string;
  const profile = () =>
    graphql<ProfileData>(stack.gatewayUrl, PROFILE, { email }, as('personalization-service'));
  const userHits = () =>
    Object.entries(stack.sandboxes.shopify.stats.snapshot().endpoints)
      .filter(([endpoint]) => endpoint !== PROBE_ENDPOINT)
      .reduce((sum, [, stats]) => sum + stats.count, 0);

  beforeAll(async () => {
    stack = await startTestStack({
      responseCache: false,
      ttlSeconds: 0,
      upstreamMaxRetries: 0,
      breaker: { failureThreshold: 2, openMs: 300 },
    });
    email = stack.world.customers.find((c) => c.shop)!.person.email;
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should refuse user requests with CIRCUIT_OPEN until its own probe finds the platform back', async () => {
    // Shopify fails until the breaker opens.
    stack.sandboxes.shopify.faults.set({ errorRate: 1, errorStatus: 500 });
    let opened = false;
    for (let i = 0; i < 10 && !opened; i++)
      opened = commerceErrorCodes((await profile()).body).includes('CIRCUIT_OPEN');
    expect(opened).toBe(true);

    // Shopify is back for user reads, but the probe's read takes 1.5 s: the breaker is half-open
    // for that long, and every user request meanwhile must be refused without reaching Shopify.
    stack.sandboxes.shopify.faults.set({ latencyMs: 1_500, endpoints: [PROBE_ENDPOINT] });
    stack.sandboxes.shopify.stats.reset();
    let refused = 0;
    let answered: GraphQLResponse<ProfileData>['body'] | undefined;
    for (let i = 0; i < 400 && !answered; i++) {
      const { body } = await profile();
      const codes = commerceErrorCodes(body);
      if (codes.length === 0) {
        answered = body;
        break;
      }
      expect(new Set(codes)).toEqual(new Set(['CIRCUIT_OPEN']));
      refused += 1;
      // Refused at once: the user request reached Shopify not at all.
      expect(userHits()).toBe(0);
      await sleep(25);
    }
    expect(refused).toBeGreaterThan(0);
    // Answered with the shop's fields this time: no commerce error, a count from Shopify.
    expect(answered?.data?.customer?.ordersCount).toEqual(expect.any(Number));
    // The breaker closed on its probe's answer, and only then did user requests reach Shopify.
    expect(stack.sandboxes.shopify.stats.snapshot().endpoints[PROBE_ENDPOINT]).toMatchObject({
      statuses: { '200': 1 },
    });
    expect(userHits()).toBeGreaterThan(0);
    const customer = answered!.data!.customer!;
    for (const field of COMMERCE_FIELDS) expect(customer[field]).not.toBeNull();
  });
});
