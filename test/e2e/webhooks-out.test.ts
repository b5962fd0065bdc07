import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { writeTestRegistry } from '../helpers/registry.js';
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

const registry = writeTestRegistry([
  {
    id: 'ops',
    scopes: ['webhooks:admin', 'crm:read', 'pii:read', 'commerce:read', 'events:read', 'metrics:read'],
  },
  { id: 'automation', scopes: ['webhooks:admin', 'crm:read', 'commerce:read'] },
  { id: 'reader', scopes: ['webhooks:read'] },
  { id: 'dashboard', scopes: ['campaigns:read'] },
]);
const as = (client: string) => ({ authorization: `Bearer ${registry.keys[client]?.[0] ?? ''}` });

describe('webhooks out through the gateway (real stack, real receiver)', () => {
  let stack: Stack;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    stack = await startTestStack({ clientsFile: registry.clientsFile });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await stack.close();
  });

  const admin = as('ops');
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
    expect(endpoint).toMatchObject({ url: receiver.url, enabled: true, ownerClientId: 'ops' });

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

  it('should let only webhooks scopes manage or read endpoints, and a reader only its own', async () => {
    const refused = await createEndpoint({ url: receiver.url }, as('dashboard'));
    expect(refused.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const notAdmin = await createEndpoint({ url: receiver.url }, as('reader'));
    expect(notAdmin.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const listed = await graphql(stack.gatewayUrl, '{ webhookEndpoints { id } }', {}, as('dashboard'));
    expect(listed.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    const opsEndpoints = await graphql<{ webhookEndpoints: { id: string }[] }>(
      stack.gatewayUrl,
      '{ webhookEndpoints { id } }',
      {},
      admin,
    );
    expect(opsEndpoints.body.data!.webhookEndpoints.length).toBeGreaterThan(0);
    const readerEndpoints = await graphql<{ webhookEndpoints: { id: string }[] }>(
      stack.gatewayUrl,
      '{ webhookEndpoints { id } }',
      {},
      as('reader'),
    );
    expect(readerEndpoints.body.data).toEqual({ webhookEndpoints: [] });
    const someoneElses = await graphql(
      stack.gatewayUrl,
      'query($id: ID!) { webhookEndpoint(id: $id) { id } }',
      { id: opsEndpoints.body.data!.webhookEndpoints[0]!.id },
      as('reader'),
    );
    expect(someoneElses.body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it("should enrich the payload with the endpoint's selection, read with its owner's permissions", async () => {
    const selection = 'customer { email lifecycleStage lifetimeValue { amount } }';
    const created = await createEndpoint({ url: receiver.url, eventTypes: ['ORDER_PLACED'], selection });
    expect(created.body.errors).toBeUndefined();
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    const customer = stack.world.customers.filter((c) => c.shop)[3]!;
    const graph = await graphql<{ customer: Record<string, unknown> }>(
      stack.gatewayUrl,
      `query($email: String!) { ${selection.replace('customer', 'customer(email: $email)')} }`,
      { email: customer.person.email },
      admin,
    );
    const before = receiver.received.length;
    await postWebhook(
      stack.origins.gateway,
      shopifyOrder({ email: customer.person.email, totalPrice: '77.00' }),
    );
    // Every endpoint wanting orders gets one; this endpoint's is the one its secret verifies.
    const signedWith = (request: ReceivedWebhook) => {
      try {
        verify(secret, request);
        return true;
      } catch {
        return false;
      }
    };
    await expect.poll(() => receiver.received.slice(before).some(signedWith)).toBe(true);
    const payload = verify(secret, receiver.received.slice(before).find(signedWith));
    expect(graph.body.data!.customer).toMatchObject({ email: customer.person.email.toLowerCase() });
    expect(payload.data['enriched']).toEqual({ customer: graph.body.data!.customer });
    expect(payload.data['enrichmentErrors']).toBeUndefined();
    await graphql(
      stack.gatewayUrl,
      'mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }',
      { id: endpoint.id },
      admin,
    );
  });

  it('should refuse a selection the graph does not have, or one the owner may not read', async () => {
    const unknown = await createEndpoint({ url: receiver.url, selection: 'customer { shoeSize }' });
    expect(unknown.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'selection-invalid',
    });
    expect(unknown.body.errors?.[0]?.message).toContain('shoeSize');
    const notSelection = await createEndpoint({ url: receiver.url, selection: 'customer(id: "1") { id' });
    expect(notSelection.body.errors?.[0]?.extensions).toMatchObject({ reason: 'selection-invalid' });
    // `automation` manages webhooks but holds no pii:read: an email in its payloads would leak past it.
    const forbidden = await createEndpoint(
      { url: receiver.url, selection: 'customer { email lifecycleStage }' },
      as('automation'),
    );
    expect(forbidden.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'selection-forbidden',
    });
    expect(forbidden.body.errors?.[0]?.message).toContain('Customer.email (needs crm:read and pii:read)');
    const allowed = await createEndpoint(
      { url: receiver.url, selection: 'customer { lifecycleStage }', eventTypes: ['FORM_SUBMITTED'] },
      as('automation'),
    );
    expect(allowed.body.errors).toBeUndefined();
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

  it('should update an endpoint, page its messages, and recover what failed while it was disabled', async () => {
    const created = await createEndpoint({
      url: receiver.url,
      eventTypes: ['ORDER_PLACED'],
      channels: ['vip'],
    });
    const { secret, endpoint } = created.body.data!.createWebhookEndpoint;
    const updated = await graphql<{
      updateWebhookEndpoint: { description: string; channels: string[] | null };
    }>(
      stack.gatewayUrl,
      'mutation($id: ID!, $input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(id: $id, input: $input) { description channels } }',
      { id: endpoint.id, input: { description: 'every order', channels: null } },
      admin,
    );
    expect(updated.body.data).toEqual({
      updateWebhookEndpoint: { description: 'every order', channels: null },
    });

    const mutate = (field: string) =>
      graphql(
        stack.gatewayUrl,
        `mutation($id: ID!) { ${field}(id: $id) { id } }`,
        { id: endpoint.id },
        admin,
      );
    expect((await mutate('disableWebhookEndpoint')).body.errors).toBeUndefined();
    const since = new Date().toISOString();
    const customer = stack.world.customers.filter((c) => c.shop)[5]!;
    for (const total of ['1.00', '2.00'])
      await postWebhook(
        stack.origins.gateway,
        shopifyOrder({ email: customer.person.email, totalPrice: total }),
      );
    const messagesQuery = `query($id: ID!, $after: String) { webhookEndpoint(id: $id) { messages(first: 1, after: $after) { nodes { id status lastError } pageInfo { hasNextPage endCursor } } } }`;
    type Page = {
      webhookEndpoint: {
        messages: {
          nodes: { id: string; status: string; lastError: string | null }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      };
    };
    await expect
      .poll(async () => {
        const first = await graphql<Page>(stack.gatewayUrl, messagesQuery, { id: endpoint.id }, admin);
        return first.body.data?.webhookEndpoint.messages.pageInfo.hasNextPage;
      })
      .toBe(true);
    const first = await graphql<Page>(stack.gatewayUrl, messagesQuery, { id: endpoint.id }, admin);
    const page1 = first.body.data!.webhookEndpoint.messages;
    const second = await graphql<Page>(
      stack.gatewayUrl,
      messagesQuery,
      { id: endpoint.id, after: page1.pageInfo.endCursor },
      admin,
    );
    const page2 = second.body.data!.webhookEndpoint.messages;
    expect(page2.nodes).toHaveLength(1);
    expect(page2.nodes[0]!.id).not.toBe(page1.nodes[0]!.id);
    expect([page1.nodes[0]!.status, page2.nodes[0]!.status]).toEqual(['FAILED', 'FAILED']);
    expect(page1.nodes[0]!.lastError).toBe('endpoint-disabled');

    const refused = await graphql(
      stack.gatewayUrl,
      'mutation($id: ID!, $since: DateTime!) { recoverWebhookEndpoint(id: $id, since: $since) { recovered } }',
      { id: endpoint.id, since },
      admin,
    );
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'endpoint-disabled',
    });
    expect((await mutate('enableWebhookEndpoint')).body.errors).toBeUndefined();
    const before = receiver.received.length;
    const recovered = await graphql<{ recoverWebhookEndpoint: { recovered: number } }>(
      stack.gatewayUrl,
      'mutation($id: ID!, $since: DateTime!) { recoverWebhookEndpoint(id: $id, since: $since) { recovered } }',
      { id: endpoint.id, since },
      admin,
    );
    expect(recovered.body.data).toEqual({ recoverWebhookEndpoint: { recovered: 2 } });
    // Other endpoints want orders too: this one's deliveries are those its secret verifies.
    const mine = () =>
      receiver.received.slice(before).filter((request) => {
        try {
          return Boolean(verify(secret, request));
        } catch {
          return false;
        }
      });
    await expect.poll(() => mine().length).toBe(2);
    const ids = mine().map((request) => String(request.headers['webhook-id']));
    expect(ids.sort()).toEqual([page1.nodes[0]!.id, page2.nodes[0]!.id].sort());
    expect((await mutate('deleteWebhookEndpoint')).body.errors).toBeUndefined();
  });

  it('should show the outbox on /metrics', async () => {
    const response = await fetch(`${stack.origins.gateway}/metrics`, {
      headers: as('ops'),
    });
    const text = await response.text();
    expect(text).toMatch(/^webhook_outbox_pending \d+$/m);
    expect(text).toMatch(/^webhook_delivery_attempts_total\{outcome="success"\} [1-9]/m);
  });
});
