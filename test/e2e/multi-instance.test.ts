import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import {
  startGatewayProcess,
  typeOnlyRoutingRules,
  type GatewayProcess,
} from '../../bench/gateway-process.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

type OrderEvent = { events: { properties: { orderId: string } } };
const ORDERS = 'subscription { events(types: [ORDER_PLACED]) { properties } }';

describe.runIf(REDIS_URL)(redisSuite('two gateway processes sharing the Redis event log'), () => {
  let stack: Stack;
  const gateways: GatewayProcess[] = [];
  const subscribers: Subscriber<OrderEvent>[] = [];
  beforeAll(async () => {
    stack = await startTestStack();
    const env = {
      EVENT_LOG: 'redis',
      REDIS_URL: REDIS_URL ?? '',
      EVENT_LOG_PREFIX: `test-events-${process.pid}-${Date.now()}`,
      ROUTING_RULES_FILE: typeOnlyRoutingRules(),
    };
    gateways.push(...(await Promise.all([startGatewayProcess(stack, env), startGatewayProcess(stack, env)])));
  }, 60_000);
  afterAll(async () => {
    for (const subscriber of subscribers) await subscriber.close();
    for (const gateway of gateways) await gateway.kill('SIGTERM');
    await stack.close();
  });

  it('should deliver each webhook, received by either instance, once to every subscriber on both', async () => {
    const [a, b] = gateways as [GatewayProcess, GatewayProcess];
    // Two subscribers on each instance.
    for (const gateway of [a, a, b, b])
      subscribers.push(subscribeWs<OrderEvent>(gateway.origin, as('admin'), ORDERS));
    await Promise.all(subscribers.map((s) => s.ready));

    const emails = stack.world.customers.map((c) => c.person.email);
    const orders = Array.from({ length: 40 }, (_, i) =>
      shopifyOrder({ email: emails[i]!, totalPrice: '10.00' }),
    );
    // Alternate instances, and redeliver every fifth one to the other instance (a platform retry
    // that a load balancer sends elsewhere).
    for (const [i, order] of orders.entries()) {
      const [first, other] = i % 2 === 0 ? [a, b] : [b, a];
      expect((await postWebhook(first.origin, order)).status).toBe(200);
      if (i % 5 === 0)
        expect((await postWebhook(other.origin, order)).body).toEqual({ accepted: 0, duplicates: 1 });
    }
    const expected = orders.map((o) => String(o.orderId)).sort();
    for (const subscriber of subscribers) {
      await subscriber.received.atLeast(orders.length, 20_000);
    }
    // A little longer, so a second copy would have arrived.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const subscriber of subscribers) {
      expect(subscriber.received.results.map((r) => r.data!.events.properties.orderId).sort()).toEqual(
        expected,
      );
    }
    // Processed once: each order is in the delivery log once, as either instance reports it.
    for (const gateway of [a, b]) {
      const page = await graphql<{ events: { edges: { node: { properties: { orderId: string } } }[] } }>(
        `${gateway.origin}/graphql`,
        'query { events(types: [ORDER_PLACED], first: 100) { edges { node { properties } } } }',
        {},
        as('admin'),
      );
      expect(page.body.data!.events.edges.map((e) => e.node.properties.orderId).sort()).toEqual(expected);
    }
  }, 60_000);
});
