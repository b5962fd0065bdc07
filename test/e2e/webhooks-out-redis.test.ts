import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/** With the Redis event log, webhooks out use the distributed delivery store on the same Redis. */
describe.runIf(REDIS_URL)(redisSuite('webhooks out with the Redis event log'), () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack({
      events: { log: { kind: 'redis', url: REDIS_URL ?? '', prefix: `test-webhooks-out-${randomUUID()}` } },
    });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await stack?.close();
  });

  it('should register an endpoint through the graph and deliver a processed order to it, signed', async () => {
    const created = await graphql<{ createWebhookEndpoint: { secret: string; endpoint: { id: string } } }>(
      stack.gatewayUrl,
      'mutation($url: String!) { createWebhookEndpoint(input: { url: $url, eventTypes: [ORDER_PLACED] }) { secret endpoint { id } } }',
      { url: receiver.url },
      as('admin'),
    );
    expect(created.body.errors).toBeUndefined();
    const { secret } = created.body.data!.createWebhookEndpoint;
    const customer = stack.world.customers.find((c) => c.shop)!;
    expect(
      (
        await postWebhook(
          stack.origins.gateway,
          shopifyOrder({ email: customer.person.email, totalPrice: '42.00' }),
        )
      ).status,
    ).toBe(200);
    await receiver.waitFor(1);
    const payload = new Webhook(secret).verify(
      receiver.received[0]?.body ?? '',
      receiver.received[0]?.headers as Record<string, string>,
    ) as { type: string; data: { properties: { totalPrice: string } } };
    expect(payload).toMatchObject({ type: 'ORDER_PLACED', data: { properties: { totalPrice: '42.00' } } });
  });
});
