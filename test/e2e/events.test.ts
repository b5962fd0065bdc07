import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { subscribeSse, subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import { postWebhook, shopifyOrder, siteFormSubmission } from '../helpers/webhooks.js';

interface OrderEvent {
  events: {
    id: string;
    cursor: string;
    type: string;
    source: string;
    channels: string[];
    properties: { totalPrice: string; currency: string; utm: { campaign: string | null } | null };
    customer: { email: string | null; lifetimeValue: { amount: string; currency: string } | null } | null;
  };
}

const ORDERS = `subscription Orders($after: String) {
  events(types: [ORDER_PLACED], after: $after) {
    id cursor type source channels properties
    customer { email lifetimeValue { amount currency } }
  }
}`;

/** Waits until the gateway's hub holds `count` subscribers: the subscription is live on the server. */
async function untilSubscribers(stack: Stack, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (stack.gateway.events.hub.subscriberCount < count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} subscribers, have ${stack.gateway.events.hub.subscriberCount}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('webhooks in, subscriptions out (real HTTP, real graphql-ws and SSE clients)', () => {
  let stack: Stack;
  const open: Subscriber<unknown>[] = [];
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    for (const subscriber of open) await subscriber.close();
    await stack.close();
  });
  const track = <T>(subscriber: Subscriber<T>): Subscriber<T> => {
    open.push(subscriber as Subscriber<unknown>);
    return subscriber;
  };
  /** A shop customer, and their lifetime value as the graph reports it over HTTP. */
  const shopCustomer = async (index: number) => {
    const customer = stack.world.customers.filter((c) => c.shop && c.audience)[index]!;
    const { body } = await graphql<{ customer: { lifetimeValue: { amount: string; currency: string } } }>(
      stack.gatewayUrl,
      'query($email: String!) { customer(email: $email) { lifetimeValue { amount currency } } }',
      { email: customer.person.email },
      as('personalization-service'),
    );
    return { email: customer.person.email, lifetimeValue: body.data!.customer.lifetimeValue };
  };

  it('should deliver a signed Shopify orders/create to a graphql-ws subscriber with the federated customer resolved', async () => {
    const subscriber = track(
      subscribeWs<OrderEvent>(stack.origins.gateway, as('personalization-service'), ORDERS),
    );
    await subscriber.ready;
    await untilSubscribers(stack, open.length);
    const customer = await shopCustomer(0);
    const order = shopifyOrder({ email: customer.email.toUpperCase(), totalPrice: '249.90' });
    const ack = await postWebhook(stack.origins.gateway, order);
    expect(ack).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });

    const [result] = await subscriber.received.atLeast(1);
    expect(result!.errors).toBeUndefined();
    const event = result!.data!.events;
    expect(event).toMatchObject({
      type: 'ORDER_PLACED',
      source: 'SHOPIFY',
      properties: { totalPrice: '249.90', currency: 'USD', utm: { campaign: 'spring-sale' } },
      // Lower-cased by the normaliser; lifetime value read from the commerce subgraph (Shopify).
      customer: { email: customer.email, lifetimeValue: customer.lifetimeValue },
    });
    // 249.90 is past the demo rule's 200.00: routed to the high-value channel.
    expect(event.channels).toContain('high-value-orders');
  });

  it('should deliver the same over Server-Sent Events', async () => {
    const subscriber = track(
      subscribeSse<OrderEvent>(stack.origins.gateway, as('personalization-service'), ORDERS),
    );
    await untilSubscribers(stack, open.length);
    const customer = await shopCustomer(1);
    await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: '12.00' }));
    const [result] = await subscriber.received.atLeast(1);
    expect(result!.data!.events).toMatchObject({
      type: 'ORDER_PLACED',
      channels: [],
      customer: { email: customer.email, lifetimeValue: customer.lifetimeValue },
    });
  });

  it('should deny PII to a subscriber without pii:read, and still deliver the event', async () => {
    const subscriber = track(
      subscribeWs<{
        events: {
          type: string;
          personalData: unknown;
          customer: { email: string | null; lifetimeValue: unknown };
        };
      }>(
        stack.origins.gateway,
        as('marketing-automation'),
        'subscription { events(types: [FORM_SUBMITTED]) { type personalData customer { email lifetimeValue { amount } } } }',
      ),
    );
    await subscriber.ready;
    await untilSubscribers(stack, open.length);
    const customer = await shopCustomer(2);
    await postWebhook(
      stack.origins.gateway,
      siteFormSubmission({ email: customer.email, firstName: 'Grace' }),
    );
    const [result] = await subscriber.received.atLeast(1);
    expect(result!.data!.events).toEqual({
      type: 'FORM_SUBMITTED',
      personalData: null,
      customer: { email: null, lifetimeValue: { amount: customer.lifetimeValue.amount } },
    });
    const denied = result!.errors!.map((e) => [
      e.extensions?.['code'],
      e.extensions?.['field'],
      e.path?.join('.'),
    ]);
    expect(denied).toEqual(
      expect.arrayContaining([
        ['FORBIDDEN', 'MarketingEvent.personalData', 'events.personalData'],
        ['FORBIDDEN', 'Customer.email', 'events.customer.email'],
      ]),
    );
    expect(JSON.stringify(result)).not.toContain(customer.email);
    expect(JSON.stringify(result)).not.toContain('Grace');
  });

  it('should store and deliver a redelivered webhook once', async () => {
    const subscriber = track(subscribeWs<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS));
    await subscriber.ready;
    await untilSubscribers(stack, open.length);
    const customer = await shopCustomer(3);
    const order = shopifyOrder({ email: customer.email, totalPrice: '30.00' });
    const first = await postWebhook(stack.origins.gateway, order);
    // Shopify redelivers the same signed body (with a new webhook id): stored once, keyed on the body.
    const again = await postWebhook(stack.origins.gateway, {
      ...order,
      headers: { ...order.headers, 'x-shopify-webhook-id': 'redelivery' },
    });
    expect(first.body).toEqual({ accepted: 1, duplicates: 0 });
    expect(again).toEqual({ status: 200, body: { accepted: 0, duplicates: 1 } });
    // A later, different order marks the end: everything before it has been delivered.
    const marker = shopifyOrder({ email: customer.email, totalPrice: '31.00' });
    await postWebhook(stack.origins.gateway, marker);
    const results = await subscriber.received.atLeast(2);
    expect(results.map((r) => r.data!.events.properties.totalPrice)).toEqual(['30.00', '31.00']);
    const history = await graphql<{ events: { edges: { node: { properties: { orderId: string } } }[] } }>(
      stack.gatewayUrl,
      'query { events(types: [ORDER_PLACED], first: 100) { edges { node { properties } } } }',
      {},
      as('admin'),
    );
    expect(history.body.errors).toBeUndefined();
    const ids = history.body.data!.events.edges.map((e) => e.node.properties.orderId);
    expect(ids.filter((id) => id === String(order.orderId))).toHaveLength(1);
  });

  it('should resume a subscription after a cursor with exactly the missed events, then live ones', async () => {
    const customer = await shopCustomer(4);
    const first = track(subscribeWs<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS));
    await first.ready;
    await untilSubscribers(stack, open.length);
    await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: '1.00' }));
    const [seen] = await first.received.atLeast(1);
    const cursor = seen!.data!.events.cursor;
    await first.close();
    open.splice(open.indexOf(first as Subscriber<unknown>), 1);

    // Missed while disconnected.
    for (const total of ['2.00', '3.00', '4.00'])
      await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: total }));
    const caughtUp = await graphql<{ events: { edges: unknown[] } }>(
      stack.gatewayUrl,
      'query($after: String) { events(after: $after, types: [ORDER_PLACED]) { edges { cursor } } }',
      { after: cursor },
      as('admin'),
    );
    await expect.poll(async () => (await stack.eventLog.stats()).pending, { timeout: 5_000 }).toBe(0);
    expect(caughtUp.body.errors).toBeUndefined();

    const resumed = track(
      subscribeWs<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS, { after: cursor }),
    );
    await resumed.ready;
    await resumed.received.atLeast(3);
    await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: '5.00' }));
    const results = await resumed.received.atLeast(4);
    expect(results.map((r) => r.data!.events.properties.totalPrice)).toEqual([
      '2.00',
      '3.00',
      '4.00',
      '5.00',
    ]);
    const cursors = results.map((r) => r.data!.events.cursor);
    expect([...cursors].sort()).toEqual(cursors);
    expect(cursors[0]! > cursor).toBe(true);
  });

  it('should treat after: null as from now over graphql-ws and SSE, as the README client example may send it', async () => {
    const customer = await shopCustomer(5);
    // Something already in the log, which "from now" must not replay.
    await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: '6.00' }));
    await expect.poll(async () => (await stack.eventLog.stats()).pending, { timeout: 5_000 }).toBe(0);
    const overWs = track(
      subscribeWs<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS, { after: null }),
    );
    const overSse = track(
      subscribeSse<OrderEvent>(stack.origins.gateway, as('admin'), ORDERS, { after: null }),
    );
    await Promise.all([overWs.ready, overSse.ready]);
    await untilSubscribers(stack, open.length);
    await postWebhook(stack.origins.gateway, shopifyOrder({ email: customer.email, totalPrice: '7.00' }));
    for (const subscriber of [overWs, overSse]) {
      const [first] = await subscriber.received.atLeast(1);
      expect(first!.errors).toBeUndefined();
      expect(first!.data!.events.properties.totalPrice).toBe('7.00');
    }
  });

  it('should refuse a subscription with bad credentials, a bad cursor or a missing scope, with codes', async () => {
    const unauthenticated = subscribeWs(stack.origins.gateway, { authorization: 'Bearer mgk_nope' }, ORDERS);
    await unauthenticated.received.ended();
    expect(String((unauthenticated.received.error as { code?: number }).code)).toBe('4403');
    await unauthenticated.close();

    const badCursor = subscribeWs(stack.origins.gateway, as('admin'), ORDERS, { after: 'not-a-cursor' });
    await badCursor.received.ended();
    const cursorError = [badCursor.received.results.at(-1)?.errors ?? badCursor.received.error].flat() as {
      extensions?: { code?: string };
    }[];
    expect(cursorError[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await badCursor.close();

    const noScope = subscribeWs(stack.origins.gateway, as('reporting-dashboard'), ORDERS);
    await noScope.received.ended();
    const scopeErrors = noScope.received.error as { extensions?: { code?: string } }[];
    expect(scopeErrors[0]?.extensions?.code).toBe('FORBIDDEN');
    await noScope.close();
  });
});
