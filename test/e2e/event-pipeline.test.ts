import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { WEBHOOK_UNVERIFIED_MESSAGE } from '../../events/ingest.js';
import { DEMO_WEBHOOK_SECRETS, WEBHOOK_KINDS } from '../../sandboxes/webhooks/index.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { subscribeWs, type Subscriber } from '../helpers/subscriptions.js';
import {
  hubspotPropertyChanges,
  postWebhook,
  shopifyOrder,
  siteFormSubmission,
} from '../helpers/webhooks.js';

async function processed(stack: Stack): Promise<void> {
  await expect
    .poll(async () => (await stack.eventLog.stats()).pending, { timeout: 10_000, interval: 25 })
    .toBe(0);
}

const calls = (stack: Stack, platform: keyof Stack['sandboxes']) =>
  stack.sandboxes[platform].stats.snapshot().total;

describe('the webhook endpoints refuse what they cannot trust, with a code, storing nothing', () => {
  let stack: Stack;
  beforeAll(async () => {
    // Mailchimp left unconfigured: its endpoint says so.
    const { mailchimp: _off, ...others } = {
      hubspot: { secrets: [DEMO_WEBHOOK_SECRETS.hubspot] },
      shopify: [DEMO_WEBHOOK_SECRETS.shopify],
      mailchimp: [DEMO_WEBHOOK_SECRETS.mailchimp],
      site: [DEMO_WEBHOOK_SECRETS.site],
    };
    stack = await startTestStack({ events: { webhooks: others } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should answer 401 WEBHOOK_SIGNATURE_INVALID to a tampered body, a wrong secret and a stale timestamp', async () => {
    const order = shopifyOrder({ email: 'ada@example.com', totalPrice: '10.00' });
    const tampered = await postWebhook(stack.origins.gateway, {
      ...order,
      body: order.body.replace('10.00', '99.00'),
    });
    const wrongSecret = await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: 'ada@example.com', totalPrice: '10.00', secret: 'not-the-shop-secret' }),
    );
    const form = siteFormSubmission({ email: 'ada@example.com' });
    const stale = await postWebhook(stack.origins.gateway, {
      ...form,
      headers: { ...form.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) },
    });
    // One answer whatever failed (the reason is logged and counted, never told to the sender).
    for (const response of [tampered, wrongSecret, stale]) {
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        errors: [{ message: WEBHOOK_UNVERIFIED_MESSAGE, extensions: { code: 'WEBHOOK_SIGNATURE_INVALID' } }],
      });
    }
    expect((await stack.eventLog.stats()).pending + (await stack.eventLog.stats()).delivered).toBe(0);
  });

  it('should answer 400 WEBHOOK_PAYLOAD_INVALID naming the fields, without echoing personal data', async () => {
    const body = JSON.stringify({
      type: 'form.submitted',
      timestamp: 'yesterday',
      data: {
        formId: 'contact-us',
        pageUrl: 'not a url',
        fields: [{ name: 'email', value: 'grace.hopper@example.com' }],
      },
    });
    const form = siteFormSubmission({ email: 'x@example.com' });
    const { signStandardWebhook } = await import('../../lib/webhooks/sign.js');
    const id = form.headers['webhook-id']!;
    const timestamp = Number(form.headers['webhook-timestamp']);
    const response = await postWebhook(stack.origins.gateway, {
      path: form.path,
      body,
      headers: {
        ...form.headers,
        'webhook-signature': signStandardWebhook({ secret: DEMO_WEBHOOK_SECRETS.site, id, timestamp, body }),
      },
    });
    expect(response.status).toBe(400);
    const error = response.body.errors?.[0];
    expect(error?.extensions['code']).toBe('WEBHOOK_PAYLOAD_INVALID');
    const problems = error?.extensions['problems'] as string[];
    expect(problems.some((p) => p.startsWith('timestamp'))).toBe(true);
    expect(problems.some((p) => p.startsWith('data.pageUrl'))).toBe(true);
    expect(JSON.stringify(response.body)).not.toContain('grace.hopper');
    expect((await stack.eventLog.stats()).pending).toBe(0);
  });

  it('should say which sources are not configured, which methods are allowed, and refuse huge bodies', async () => {
    const mailchimp = await fetch(
      `${stack.origins.gateway}/webhooks/mailchimp?secret=${DEMO_WEBHOOK_SECRETS.mailchimp}`,
      { method: 'POST', body: 'type=subscribe' },
    );
    expect(mailchimp.status).toBe(404);
    expect(
      ((await mailchimp.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code,
    ).toBe('WEBHOOK_SOURCE_NOT_CONFIGURED');
    const get = await fetch(`${stack.origins.gateway}/webhooks/shopify`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const huge = await fetch(`${stack.origins.gateway}/webhooks/shopify`, {
      method: 'POST',
      body: 'x'.repeat(1_100_000),
    });
    expect(huge.status).toBe(413);
  });

  it('should refuse a history query after a cursor it never issued with BAD_USER_INPUT', async () => {
    const response = await graphql(
      stack.gatewayUrl,
      'query { events(after: "s1_not-a-cursor", first: 5) { edges { cursor } } }',
      {},
      as('marketing-automation'),
    );
    expect(response.body.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.message).toMatch(/cursor/i);
  });

  it('should count refusals in /metrics, for callers with metrics:read only', async () => {
    const anonymous = await fetch(`${stack.origins.gateway}/metrics`);
    expect(anonymous.status).toBe(401);
    const dashboard = await fetch(`${stack.origins.gateway}/metrics`, { headers: as('reporting-dashboard') });
    expect(dashboard.status).toBe(403);
    const admin = await fetch(`${stack.origins.gateway}/metrics`, { headers: as('admin') });
    expect(admin.status).toBe(200);
    expect(admin.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await admin.text();
    // The tests above were refused for these reasons; each one is counted under its source.
    const counted = (reason: string) =>
      Number(
        new RegExp(`^webhooks_rejected_total\\{[^}]*reason="${reason}"[^}]*\\} (\\d+)$`, 'm').exec(
          text,
        )?.[1] ?? 0,
      );
    expect(counted('bad-signature')).toBeGreaterThanOrEqual(2);
    expect(counted('stale')).toBeGreaterThanOrEqual(1);
    expect(counted('invalid-payload')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^event_log_pending 0$/m);
    expect(text).not.toContain(DEMO_WEBHOOK_SECRETS.mailchimp);
  });
});

describe('processing: invalidation, retries, dead letters and replay, channels', () => {
  let stack: Stack;
  const open: Subscriber<unknown>[] = [];
  beforeAll(async () => {
    // No response cache (it would answer before the record caches are asked) and no connector
    // retries, so a fault costs exactly one upstream call per processing attempt.
    stack = await startTestStack({ responseCache: false, upstreamMaxRetries: 0 });
  });
  afterAll(async () => {
    for (const subscriber of open) await subscriber.close();
    await stack.close();
  });

  it("should invalidate the cached orders of an order's customer, so the next read goes to Shopify", async () => {
    const customer = stack.world.customers.find((c) => c.shop && c.audience)!;
    const read = () =>
      graphql(
        stack.gatewayUrl,
        'query($email: String!) { customer(email: $email) { ordersCount lifetimeValue { amount } } }',
        { email: customer.person.email },
        as('personalization-service'),
      );
    expect((await read()).body.errors).toBeUndefined();
    const before = calls(stack, 'shopify');
    await read();
    expect(calls(stack, 'shopify')).toBe(before);

    await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: customer.person.email, totalPrice: '20.00' }),
    );
    await processed(stack);
    await read();
    expect(calls(stack, 'shopify')).toBeGreaterThan(before);
  });

  it("should invalidate a contact's cached profile on contact.propertyChange", async () => {
    const contact = stack.world.customers[7]!;
    const read = () =>
      graphql(
        stack.gatewayUrl,
        'query($id: ID!) { customer(id: $id) { lifecycleStage } }',
        { id: contact.crm.id },
        as('personalization-service'),
      );
    expect((await read()).body.errors).toBeUndefined();
    const before = calls(stack, 'hubspot');
    await read();
    expect(calls(stack, 'hubspot')).toBe(before);
    await postWebhook(
      stack.origins.gateway,
      hubspotPropertyChanges(stack.origins.gateway, [
        { objectId: Number(contact.crm.id), propertyName: 'lifecyclestage', value: 'customer' },
      ]),
    );
    await processed(stack);
    // The processor completed the event's email from the CRM: that read missed the dropped entry.
    expect(calls(stack, 'hubspot')).toBeGreaterThan(before);
  });

  it('should retry a failing enrichment, dead-letter it with the reason, and deliver it once replayed', async () => {
    const contact = stack.world.customers[9]!;
    const subscriber = subscribeWs<{
      events: { type: string; customerId: string; customer: { email: string } };
    }>(
      stack.origins.gateway,
      as('admin'),
      'subscription { events(types: [CONTACT_UPDATED]) { type customerId customer { email } } }',
    );
    open.push(subscriber as Subscriber<unknown>);
    await subscriber.ready;
    // Three attempts (the test stack's maxAttempts), each one CRM call: all three fail.
    stack.sandboxes.hubspot.faults.set({ errorRate: 1, errorStatus: 503, remaining: 3 });
    await postWebhook(
      stack.origins.gateway,
      hubspotPropertyChanges(stack.origins.gateway, [
        { objectId: Number(contact.crm.id), propertyName: 'hs_lead_status', value: 'OPEN' },
      ]),
    );
    await processed(stack);
    const dead = await graphql<{
      deadLetters: { id: string; type: string; reason: string; attempts: number }[];
    }>(
      stack.gatewayUrl,
      'query { deadLetters(first: 10) { id type source reason attempts failedAt } }',
      {},
      as('admin'),
    );
    expect(dead.body.errors).toBeUndefined();
    expect(dead.body.data!.deadLetters).toHaveLength(1);
    expect(dead.body.data!.deadLetters[0]).toMatchObject({ type: 'CONTACT_UPDATED', attempts: 3 });
    expect(dead.body.data!.deadLetters[0]!.reason).toMatch(/reading the customer failed/);
    expect(subscriber.received.results).toHaveLength(0);

    // Operators only: the personalization service may not see or replay dead letters.
    const denied = await graphql(
      stack.gatewayUrl,
      'mutation { replayDeadLetters { replayed } }',
      {},
      as('personalization-service'),
    );
    expect(denied.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    const replay = await graphql<{ replayDeadLetters: { replayed: number } }>(
      stack.gatewayUrl,
      'mutation { replayDeadLetters { replayed } }',
      {},
      as('admin'),
    );
    expect(replay.body.data).toEqual({ replayDeadLetters: { replayed: 1 } });
    const [result] = await subscriber.received.atLeast(1);
    expect(result!.data!.events).toEqual({
      type: 'CONTACT_UPDATED',
      customerId: contact.crm.id,
      customer: { email: contact.person.email },
    });
    expect((await stack.eventLog.stats()).deadLetters).toBe(0);
  });

  it('should send an event only to the channels its rules match, and a channel subscriber only those', async () => {
    const subscriber = subscribeWs<{ events: { properties: { totalPrice: string }; channels: string[] } }>(
      stack.origins.gateway,
      as('admin'),
      'subscription { events(channel: "high-value-orders") { properties channels } }',
    );
    open.push(subscriber as Subscriber<unknown>);
    await subscriber.ready;
    const email = stack.world.customers[3]!.person.email;
    for (const total of ['199.99', '200.00', '15.00', '1250.00'])
      await postWebhook(stack.origins.gateway, shopifyOrder({ email, totalPrice: total }));
    const results = await subscriber.received.atLeast(2);
    await processed(stack);
    // Events are processed concurrently: delivery order is the order processing finished.
    expect(subscriber.received.results.map((r) => r.data!.events.properties.totalPrice).sort()).toEqual([
      '1250.00',
      '200.00',
    ]);
    expect(results.every((r) => r.data!.events.channels.includes('high-value-orders'))).toBe(true);
  });
});

describe("the demo's own webhooks, as `npm start` wires the sandboxes to the gateway", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should accept every kind the sandboxes send, HubSpot signed over the address the gateway is reached on', async () => {
    const outcomes = [];
    for (const kind of WEBHOOK_KINDS) outcomes.push(await stack.webhooks.emit(kind));
    expect(outcomes.map(({ kind, ok, status, attempts }) => ({ kind, ok, status, attempts }))).toEqual(
      WEBHOOK_KINDS.map((kind) => ({ kind, ok: true, status: 200, attempts: 1 })),
    );
  });
});
