import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { LOOPBACK_ALLOW_LIST } from '../../events/deliveries-config.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * Issue 16, the deliveries in the health model: a message that uses every attempt
 * (WEBHOOK_ATTEMPTS_EXHAUSTED) counts on its endpoint's connection, and an endpoint disabled for
 * 410 Gone (WEBHOOK_ENDPOINT_DISABLED) shows as disabled and DOWN, read through the graph as a
 * monitoring client would. Real stack, real receivers, two attempts 50 ms apart.
 */
const registry = writeTestRegistry([
  { id: 'ops', scopes: ['webhooks:admin', 'commerce:read', 'crm:read', 'monitoring:read'] },
]);
const ops = { authorization: `Bearer ${registry.keys['ops']?.[0] ?? ''}` };

const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } } }`;
const HEALTH = `query($name: String!) {
  integration(name: $name) {
    name kind status deliveriesExhausted disabled
    hour: window(span: ONE_HOUR) { calls errors exhausted }
    lastError { code }
  }
}`;

interface Health {
  integration: {
    name: string;
    kind: string;
    status: string;
    deliveriesExhausted: number | null;
    disabled: boolean | null;
    hour: { calls: number; errors: number; exhausted: number };
    lastError: { code: string } | null;
  } | null;
}

describe('deliveries in the health model (real stack)', () => {
  let stack: Stack;
  let failing: WebhookReceiver;
  let gone: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack({
      clientsFile: registry.clientsFile,
      events: {
        webhookDeliveries: { allowHttp: true, allow: [...LOOPBACK_ALLOW_LIST], retryScheduleMs: [0, 50] },
      },
    });
    failing = await startReceiver(() => ({ status: 500 }));
    gone = await startReceiver(() => ({ status: 410 }));
  });
  afterAll(async () => {
    await failing?.close();
    await gone?.close();
    await stack?.close();
  });

  const endpointFor = async (url: string) => {
    const created = await graphql<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
      stack.gatewayUrl,
      CREATE,
      { input: { url, eventTypes: ['ORDER_PLACED'] } },
      ops,
    );
    expect(created.body.errors).toBeUndefined();
    return created.body.data!.createWebhookEndpoint.endpoint.id;
  };
  const health = async (id: string) =>
    (await graphql<Health>(stack.gatewayUrl, HEALTH, { name: `endpoint:${id}` }, ops)).body.data?.integration;

  it('should count the messages that used every attempt on the endpoint, and disable a gone one', async () => {
    const exhausting = await endpointFor(failing.url);
    const disabling = await endpointFor(gone.url);
    const customer = stack.world.customers.find((c) => c.shop)!;
    for (const total of ['101.00', '102.00']) {
      const order = shopifyOrder({ email: customer.person.email, totalPrice: total });
      expect((await postWebhook(stack.origins.gateway, order)).status).toBe(200);
    }

    // 2 orders x 2 attempts, both exhausted: the count comes from the notices the deliveries emit.
    await expect
      .poll(() => health(exhausting), { timeout: 20_000, interval: 200 })
      .toMatchObject({ deliveriesExhausted: 2, hour: { exhausted: 2 } });
    const exhausted = (await health(exhausting))!;
    expect(exhausted).toMatchObject({
      kind: 'ENDPOINT',
      disabled: false,
      hour: { calls: 4, errors: 4 },
      lastError: { code: 'WEBHOOK_STATUS' },
    });
    expect(exhausted.status).toBe('DOWN'); // every attempt failed

    await expect
      .poll(() => health(disabling), { timeout: 20_000, interval: 200 })
      .toMatchObject({ disabled: true, status: 'DOWN' });

    // Enabled again by hand: no longer disabled in the model either.
    const enabled = await graphql(
      stack.gatewayUrl,
      'mutation($id: ID!) { enableWebhookEndpoint(id: $id) { enabled } }',
      { id: disabling },
      ops,
    );
    expect(enabled.body.errors).toBeUndefined();
    expect((await health(disabling))!.disabled).toBe(false);

    // A platform connection delivers nothing: no count.
    const listed = await graphql<{ integrations: { kind: string; deliveriesExhausted: number | null }[] }>(
      stack.gatewayUrl,
      '{ integrations { kind deliveriesExhausted } }',
      {},
      ops,
    );
    for (const integration of listed.body.data!.integrations.filter((i) => i.kind === 'WEBHOOK_SOURCE'))
      expect(integration.deliveriesExhausted).toBeNull();
  });
});
