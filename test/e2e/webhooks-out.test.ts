import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { startReceiver, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

const CREATE = `mutation($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url enabled ownerClientId eventTypes } }
}`;

const ENDPOINTS = `{
  webhookEndpoints {
    id
    messages(first: 5) { nodes { id status attemptCount eventType payload attempts(first: 5) { nodes { statusCode error } } } pageInfo { hasNextPage endCursor } }
    attempts(first: 5) { nodes { messageId statusCode latencyMs responseBody } }
  }
}`;

interface Created {
  createWebhookEndpoint: {
    secret: string;
    endpoint: {
      id: string;
      url: string;
      enabled: boolean;
      ownerClientId: string;
      eventTypes: string[] | null;
    };
  };
}

const verify = (secret: string, request: ReceivedWebhook | undefined) =>
  new Webhook(secret).verify(request?.body ?? '', request?.headers as Record<string, string>) as {
    type: string;
    data: Record<string, unknown>;
  };

describe('webhooks out through the gateway (real stack, real receiver)', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await stack.close();
  });

  const admin = as('admin');
  const createEndpoint = (input: Record<string, unknown>, headers = admin) =>
    graphql<Created>(stack.gatewayUrl, CREATE, { input }, headers);

  it('should register an endpoint, deliver a processed order signed with its secret, list the attempt and replay it', async () => {
    const created = await createEndpoint({
      url: receiver.url,
      description: 'orders to the test receiver',
      eventTypes: ['ORDER_PLACED'],
    });
    expect(created.body.errors).toBeUndefined();
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint).toMatchObject({ url: receiver.url, enabled: true, ownerClientId: 'admin' });

    const customer = stack.world.customers.find((c) => c.shop)!;
    const order = shopifyOrder({ email: customer.person.email, totalPrice: '310.00' });
    expect((await postWebhook(stack.origins.gateway, order)).status).toBe(200);
    await receiver.waitFor(1);
    const delivered = verify(secret, receiver.received[0]);
    expect(delivered.type).toBe('ORDER_PLACED');
    expect(delivered.data).toMatchObject({ source: 'shopify', properties: { totalPrice: '310.00' } });

    const listed = await graphql<{
      webhookEndpoints: {
        id: string;
        messages: { nodes: { id: string; status: string; attempts: { nodes: { statusCode: number }[] } }[] };
        attempts: { nodes: { statusCode: number; messageId: string }[] };
      }[];
    }>(stack.gatewayUrl, ENDPOINTS, {}, admin);
    expect(listed.body.errors).toBeUndefined();
    const mine = listed.body.data!.webhookEndpoints.find((e) => e.id === endpoint.id)!;
    const message = mine.messages.nodes[0]!;
    expect(message.id).toBe(receiver.received[0]?.headers['webhook-id']);
    // The attempt is recorded just after the receiver answered: wait for the settle.
    await expect
      .poll(async () => {
        const again = await graphql<{
          webhookMessage: { status: string; attempts: { nodes: { statusCode: number }[] } };
        }>(
          stack.gatewayUrl,
          'query($id: ID!) { webhookMessage(id: $id) { status attempts { nodes { statusCode } } } }',
          { id: message.id },
          admin,
        );
        return again.body.data?.webhookMessage;
      })
      .toEqual({ status: 'SUCCEEDED', attempts: { nodes: [{ statusCode: 200 }] } });

    const replayed = await graphql<{ replayWebhookMessage: { id: string } }>(
      stack.gatewayUrl,
      'mutation($id: ID!) { replayWebhookMessage(id: $id) { id } }',
      { id: message.id },
      admin,
    );
    expect(replayed.body.errors).toBeUndefined();
    await receiver.waitFor(2);
    expect(receiver.received[1]?.headers['webhook-id']).toBe(message.id);
    expect(verify(secret, receiver.received[1]).data).toEqual(delivered.data);
  });

  it('should refuse an endpoint URL that reaches a metadata or private address (SSRF guard), naming the reason', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/hook']) {
      const refused = await createEndpoint({ url });
      expect(refused.body.data).toBeNull();
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'url-blocked',
      });
    }
    const bad = await createEndpoint({ url: receiver.url, rateLimitPerSecond: 0 });
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'invalid-input',
    });
    expect(bad.body.errors?.[0]?.message).toContain('rateLimitPerSecond');
  });

  it('should let only webhooks scopes manage or read endpoints', async () => {
    const refused = await createEndpoint({ url: receiver.url }, as('personalization-service'));
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const listed = await graphql(
      stack.gatewayUrl,
      '{ webhookEndpoints { id } }',
      {},
      as('marketing-automation'),
    );
    expect(listed.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('should rotate a secret with an overlap, signing with both until it ends', async () => {
    const created = await createEndpoint({ url: receiver.url, eventTypes: ['ORDER_PLACED'] });
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    const rotated = await graphql<{
      rotateWebhookEndpointSecret: { secret: string; previousSecretsExpireAt: string };
    }>(
      stack.gatewayUrl,
      'mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id, overlapSeconds: 3600) { secret previousSecretsExpireAt } }',
      { id: endpoint.id },
      admin,
    );
    expect(rotated.body.errors).toBeUndefined();
    const next = rotated.body.data!.rotateWebhookEndpointSecret;
    expect(next.secret).not.toBe(secret);
    const before = receiver.received.length;
    const customer = stack.world.customers.find((c) => c.shop)!;
    await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: customer.person.email, totalPrice: '12.00' }),
    );
    // Both endpoints (the first test's and this one) want orders.
    await receiver.waitFor(before + 2);
    const mine = receiver.received.slice(before).find((request) => {
      try {
        verify(next.secret, request);
        return true;
      } catch {
        return false;
      }
    });
    expect(String(mine?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => verify(secret, mine)).not.toThrow();
    await graphql(
      stack.gatewayUrl,
      'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }',
      { id: endpoint.id },
      admin,
    );
  });

  it('should show the outbox on /metrics', async () => {
    const response = await fetch(`${stack.origins.gateway}/metrics`, {
      headers: { authorization: `Bearer ${DEMO_API_KEYS.admin}` },
    });
    const text = await response.text();
    expect(text).toMatch(/^webhook_outbox_pending \d+$/m);
    expect(text).toMatch(/^webhook_delivery_attempts_total\{outcome="success"\} [1-9]/m);
  });
});
