import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { eventually } from '../helpers/gateway-process.js';
import { startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * Issue 16: `integrations` through the whole graph: the platform clients' and webhook sources'
 * health as the process saw it, for a client with `monitoring:read` only.
 */
const QUERY = `{
  integrations {
    name kind platform status freshness successRate errorRate
    latency { p50 p95 p99 }
    window(span: ONE_HOUR) { calls errors errorsByClass { errorClass count } }
    budget breakerOpen
    version { inUse latest supportedUntil warnings }
    lastError { code message }
    history { calls }
  }
}`;

interface IntegrationRow {
  name: string;
  kind: string;
  platform: string | null;
  status: string;
  freshness: number | null;
  successRate: number | null;
  window: { calls: number; errors: number; errorsByClass: { errorClass: string; count: number }[] };
  budget: number | null;
  breakerOpen: boolean | null;
  version: {
    inUse: string | null;
    latest: string | null;
    supportedUntil: string | null;
    warnings: string[];
  } | null;
  lastError: { code: string; message: string } | null;
  history: { calls: number }[];
}

describe('integrations (health model) through the gateway', () => {
  let stack: Stack;
  const post = (client: 'admin' | 'personalization-service', query: string) =>
    fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: as(client, { 'content-type': 'application/json' }),
      body: JSON.stringify({ query }),
    }).then(
      (r) =>
        r.json() as Promise<{
          data?: { integrations: IntegrationRow[] | null };
          errors?: { extensions: { code: string } }[];
        }>,
    );

  beforeAll(async () => {
    stack = await startTestStack({ customers: 20, rateLimits: true, responseCache: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('should list each platform client and webhook source the process used, with its figures', async () => {
    const email = stack.world.customers[0]!.person.email;
    const profile = await post(
      'personalization-service',
      `{ customer(email: "${email}") { email ordersCount } }`,
    );
    expect(profile.errors).toBeUndefined();
    const bad = shopifyOrder({ email, totalPrice: '10.00', secret: 'not-the-secret-at-all' });
    expect((await postWebhook(stack.origins.gateway, bad)).status).toBe(401);
    expect(
      (await postWebhook(stack.origins.gateway, shopifyOrder({ email, totalPrice: '10.00' }))).status,
    ).toBe(200);

    const answer = await post('admin', QUERY);
    expect(answer.errors).toBeUndefined();
    const byName = new Map(answer.data!.integrations!.map((row) => [row.name, row]));
    const hubspot = byName.get('hubspot')!;
    expect(hubspot).toMatchObject({
      kind: 'PLATFORM',
      platform: 'hubspot',
      status: 'OK',
      successRate: 1,
      breakerOpen: false,
    });
    expect(hubspot.window.calls).toBeGreaterThan(0);
    expect(hubspot.freshness).toBeGreaterThanOrEqual(0);
    expect(hubspot.history).toHaveLength(60);
    const shopify = byName.get('shopify')!;
    expect(shopify.version).toEqual({
      inUse: '2026-10',
      latest: '2026-10',
      supportedUntil: '2027-10-01',
      warnings: [],
    });
    expect(shopify.budget).toBeGreaterThan(0.9); // Shopify's leaky bucket, nearly full after one call
    const hooks = byName.get('webhooks:shopify')!;
    expect(hooks).toMatchObject({ kind: 'WEBHOOK_SOURCE', successRate: 0.5, version: null });
    expect(hooks.window).toEqual({
      calls: 2,
      errors: 1,
      errorsByClass: [{ errorClass: 'bad-signature', count: 1 }],
    });
    expect(hooks.lastError?.code).toBe('unverified');
  });

  it('should list a routing rule’s action as its own connection once it ran', async () => {
    const email = stack.world.customers[1]!.person.email;
    // The demo rules send a high-value order to Meta as a Purchase (events/demo-routing.yaml).
    expect(
      (await postWebhook(stack.origins.gateway, shopifyOrder({ email, totalPrice: '350.00' }))).status,
    ).toBe(200);
    const action = await eventually(
      async () => {
        const answer = await post('admin', '{ integrations { name kind platform status successRate } }');
        return answer.data?.integrations?.find((row) => row.name === 'action:meta/conversion');
      },
      (row) => row !== undefined,
    );
    expect(action).toMatchObject({ kind: 'ACTION', platform: 'meta', status: 'OK', successRate: 1 });
  });

  it('should refuse integrations to a client without monitoring:read', async () => {
    const answer = await post('personalization-service', '{ integrations { name status } }');
    expect(answer.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect(answer.data?.integrations ?? null).toBeNull();
  });
});
