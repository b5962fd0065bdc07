import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import { deliveryMetrics } from '../../deliveries/metrics.js';
import { eventually } from '../helpers/gateway-process.js';
import { freePorts } from '../helpers/ports.js';
import type { ReceivedWebhook } from '../helpers/webhook-receiver.js';
import { answers, harness, processedEvent } from './harness.js';

const header = (request: ReceivedWebhook | undefined, name: string): string => {
  const value = request?.headers[name];
  if (typeof value !== 'string') throw new Error(`no ${name} header`);
  return value;
};

/** The `v1,` entries a Standard Webhooks library computes for this request with `secret`. */
const officialSignature = (secret: string, request: ReceivedWebhook | undefined) =>
  new Webhook(secret).sign(
    header(request, 'webhook-id'),
    new Date(Number(header(request, 'webhook-timestamp')) * 1000),
    request?.body ?? '',
  );

describe('webhook deliveries', () => {
  it('should deliver a processed event once, signed so the official standardwebhooks library verifies it, without personal data', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint, secret } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'subscriber-1',
    });
    expect(secret).toMatch(/^whsec_/);
    const event = processedEvent(h.clock);
    expect(await h.deliveries.enqueueForEvent(event)).toBe(1);
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    const payload = new Webhook(secret).verify(request?.body ?? '', {
      'webhook-id': header(request, 'webhook-id'),
      'webhook-timestamp': header(request, 'webhook-timestamp'),
      'webhook-signature': header(request, 'webhook-signature'),
    });
    expect(header(request, 'webhook-id')).toBe(messageIdFor(endpoint.id, event));
    expect(header(request, 'content-type')).toBe('application/json');
    expect(payload).toEqual({
      type: 'ORDER_PLACED',
      timestamp: event.occurredAt,
      data: {
        id: event.id,
        type: 'ORDER_PLACED',
        source: 'site',
        occurredAt: event.occurredAt,
        receivedAt: event.receivedAt,
        processedAt: event.processedAt,
        channels: ['all-orders'],
        customer: { id: event.customer?.id },
        properties: { totalPrice: '120.00', currency: 'USD' },
      },
    });
    expect(request?.body).not.toContain('@example.com');
    expect(request?.body).not.toContain('Ada');
    const message = await h.deliveries.service.message(messageIdFor(endpoint.id, event));
    expect(message).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200 });
    // The same event again (a redelivery from the pipeline): nothing new is sent.
    expect(await h.deliveries.enqueueForEvent(event)).toBe(0);
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
  });

  it("should retry on Svix's schedule under the same webhook-id, signing each attempt afresh, until a 2xx", async () => {
    const h = await harness();
    const receiver = await h.receiver(answers({ status: 500 }, { status: 503 }, { status: 204 }));
    const { endpoint, secret } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
    });
    const start = h.clock.now();
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    await h.tick(4_999);
    expect(receiver.received).toHaveLength(1);
    await h.tick(1);
    expect(receiver.received).toHaveLength(2);
    await h.tick(5 * 60_000 - 1);
    expect(receiver.received).toHaveLength(2);
    await h.tick(1);
    expect(receiver.received).toHaveLength(3);

    expect(new Set(receiver.received.map((r) => header(r, 'webhook-id')))).toEqual(
      new Set([receiver.received[0] ? header(receiver.received[0], 'webhook-id') : '']),
    );
    expect(
      receiver.received.map((r) => Number(header(r, 'webhook-timestamp')) - Math.floor(start / 1000)),
    ).toEqual([0, 5, 305]);
    for (const request of receiver.received)
      expect(header(request, 'webhook-signature')).toBe(officialSignature(secret, request));
    const [message] = await h.deliveries.service.messages({ endpointId: endpoint.id, limit: 5 });
    expect(message).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 204 });
    const attempts = await h.deliveries.service.attempts({ messageId: message?.id ?? '', limit: 10 });
    expect(attempts.map((a) => [a.attemptedAtMs - start, a.statusCode, a.errorClass])).toEqual([
      [305_000, 204, null],
      [5_000, 503, 'status'],
      [0, 500, 'status'],
    ]);
    expect(attempts.every((a) => a.latencyMs > 0)).toBe(true);
  });

  it('should wait as long as Retry-After asks, in seconds or as an HTTP date', async () => {
    const h = await harness();
    const inTwoMinutes = () => new Date(h.clock.now() + 120_000).toUTCString();
    const receiver = await h.receiver((_request, index) =>
      index === 0
        ? { status: 429, headers: { 'retry-after': '60' } }
        : index === 1
          ? { status: 503, headers: { 'retry-after': inTwoMinutes() } }
          : { status: 200 },
    );
    await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    await h.tick(59_999);
    expect(receiver.received).toHaveLength(1);
    await h.tick(1);
    expect(receiver.received).toHaveLength(2);
    // The schedule says 5 min after the second failure; the date asks for 2 min: the longer wins.
    await h.tick(299_999);
    expect(receiver.received).toHaveLength(2);
    await h.tick(1);
    expect(receiver.received).toHaveLength(3);
  });

  it('should exhaust a message after its last attempt and emit WEBHOOK_ATTEMPTS_EXHAUSTED', async () => {
    const h = await harness({ config: { retryScheduleMs: [0, 1_000, 2_000] } });
    const receiver = await h.receiver(answers({ status: 500, body: 'down' }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const event = processedEvent(h.clock);
    await h.deliveries.enqueueForEvent(event);
    await h.deliveries.dispatcher.settled();
    await h.tick(1_000);
    await h.tick(2_000);
    await h.tick(86_400_000);
    expect(receiver.received).toHaveLength(3);
    const messageId = messageIdFor(endpoint.id, event);
    expect(await h.deliveries.service.message(messageId)).toMatchObject({ status: 'exhausted', attempts: 3 });
    const notices = await eventually(
      async () => h.notices,
      (list) => list.length > 0,
    );
    expect(notices).toEqual([
      expect.objectContaining({
        type: 'WEBHOOK_ATTEMPTS_EXHAUSTED',
        source: 'deliveries',
        customer: null,
        properties: {
          endpointId: endpoint.id,
          messageId,
          eventId: event.id,
          eventType: 'ORDER_PLACED',
          attempts: 3,
          lastStatusCode: 500,
          lastErrorClass: 'status',
        },
      }),
    ]);
    expect((await h.deliveries.service.endpoint(endpoint.id)).enabled).toBe(true);
  });

  it('should disable an endpoint that answers 410 Gone, fail its other messages, and emit WEBHOOK_ENDPOINT_DISABLED', async () => {
    const h = await harness({ config: { perEndpointConcurrency: 1 } });
    const receiver = await h.receiver(answers({ status: 410 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const before = await deliveryMetrics.disabled.get({ reason: 'gone' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    expect(await h.deliveries.service.endpoint(endpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'gone',
    });
    const messages = await h.deliveries.service.messages({ endpointId: endpoint.id, limit: 5 });
    expect(messages.map((m) => [m.status, m.lastError])).toEqual([
      ['failed', 'endpoint-disabled'],
      ['failed', 'gone'],
    ]);
    expect(await deliveryMetrics.disabled.get({ reason: 'gone' })).toBe(before + 1);
    const notices = await eventually(
      async () => h.notices,
      (list) => list.length > 0,
    );
    expect(notices).toEqual([
      expect.objectContaining({
        type: 'WEBHOOK_ENDPOINT_DISABLED',
        source: 'deliveries',
        properties: { endpointId: endpoint.id, reason: 'gone' },
      }),
    ]);
    // An event for a disabled endpoint is kept, as failed, for a recovery once it is enabled again.
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    expect(
      (await h.deliveries.service.messages({ endpointId: endpoint.id, status: 'failed', limit: 5 })).length,
    ).toBe(3);
  });

  it('should disable an endpoint after every attempt failed for 5 days, and not before', async () => {
    const day = 86_400_000;
    const h = await harness({ config: { retryScheduleMs: [0, day, day, day, day, day, day, day] } });
    const receiver = await h.receiver(answers({ status: 502 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    for (let i = 1; i <= 4; i++) {
      await h.tick(day);
    }
    expect(receiver.received).toHaveLength(5);
    expect(await h.deliveries.service.endpoint(endpoint.id)).toMatchObject({
      enabled: true,
      failingSinceMs: expect.any(Number),
    });
    await h.tick(day);
    expect(receiver.received).toHaveLength(6);
    expect(await h.deliveries.service.endpoint(endpoint.id)).toMatchObject({
      enabled: false,
      disabledReason: 'failing',
    });
    const notices = await eventually(
      async () => h.notices,
      (list) => list.length > 0,
    );
    expect(notices.map((n) => [n.type, n.properties['reason']])).toEqual([
      ['WEBHOOK_ENDPOINT_DISABLED', 'failing'],
    ]);
    await h.tick(day);
    expect(receiver.received).toHaveLength(6);
  });

  it('should count a success as the end of a failing streak', async () => {
    const day = 86_400_000;
    const h = await harness({ config: { retryScheduleMs: [0, day, day, day, day, day, day, day] } });
    const receiver = await h.receiver(
      answers({ status: 500 }, { status: 500 }, { status: 200 }, { status: 500 }),
    );
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    await h.tick(day);
    expect((await h.deliveries.service.endpoint(endpoint.id)).failingSinceMs).toBe(h.clock.now() - day);
    await h.tick(day);
    expect(receiver.received).toHaveLength(3);
    expect((await h.deliveries.service.endpoint(endpoint.id)).failingSinceMs).toBeNull();
  });

  it('should not follow a redirect: a 3xx is a failure and the target hears nothing', async () => {
    const h = await harness();
    const target = await h.receiver();
    const redirecting = await h.receiver(answers({ status: 302, headers: { location: target.url } }));
    const { endpoint } = await h.deliveries.service.createEndpoint({
      url: redirecting.url,
      ownerClientId: 'c',
    });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(redirecting.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    const [attempt] = await h.deliveries.service.attempts({ endpointId: endpoint.id, limit: 5 });
    expect(attempt).toMatchObject({ statusCode: 302, errorClass: 'status' });
    const [message] = await h.deliveries.service.messages({ endpointId: endpoint.id, limit: 5 });
    expect(message).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('should record a timeout when the endpoint does not answer in time, and a connection failure when nothing listens', async () => {
    const h = await harness({ config: { attemptTimeoutMs: 300 } });
    const silent = await h.receiver(() => 'hold');
    const [closedPort] = await freePorts(1);
    const slow = await h.deliveries.service.createEndpoint({ url: silent.url, ownerClientId: 'c' });
    const dead = await h.deliveries.service.createEndpoint({
      url: `http://127.0.0.1:${closedPort}/hooks`,
      ownerClientId: 'c',
    });
    const timeouts = await deliveryMetrics.attempts.get({ outcome: 'timeout' });
    const connections = await deliveryMetrics.attempts.get({ outcome: 'connection' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(await h.deliveries.service.attempts({ endpointId: slow.endpoint.id, limit: 5 })).toEqual([
      expect.objectContaining({ statusCode: null, errorClass: 'timeout', responseBody: null }),
    ]);
    const [refused] = await h.deliveries.service.attempts({ endpointId: dead.endpoint.id, limit: 5 });
    expect(refused).toMatchObject({ statusCode: null, errorClass: 'connection' });
    expect(refused?.errorMessage).toContain('ECONNREFUSED');
    expect(await deliveryMetrics.attempts.get({ outcome: 'timeout' })).toBe(timeouts + 1);
    expect(await deliveryMetrics.attempts.get({ outcome: 'connection' })).toBe(connections + 1);
  });

  it("should keep the first 1 KB of the response body with secrets scrubbed, the endpoint's own included", async () => {
    const h = await harness();
    let echoed = '';
    const receiver = await h.receiver((request) => ({
      status: 500,
      body: `${echoed} sig=${String(request.headers['webhook-signature'])} Authorization: Bearer abc123 ${'x'.repeat(3000)}`,
    }));
    const { endpoint, secret } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
    });
    echoed = `secret ${secret} key ${secret.slice(6)}`;
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    const [attempt] = await h.deliveries.service.attempts({ endpointId: endpoint.id, limit: 1 });
    const body = attempt?.responseBody ?? '';
    expect(body).toMatch(
      /^secret \[redacted\] key \[redacted\] sig=v1,[A-Za-z0-9+/]+=* Authorization: Bearer \[redacted\] x+$/,
    );
    expect(body).not.toContain(secret.slice(6));
    // Scrubbing shortens it; before, it was cut at 1024 bytes of the 3,000-odd sent.
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(body)).toBeGreaterThan(900);
  });

  it('should report the queue depth and attempts in flight as gauges', async () => {
    const h = await harness({ config: { perEndpointConcurrency: 2 } });
    const receiver = await h.receiver(() => 'hold');
    await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    for (let i = 0; i < 5; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await receiver.waitFor(2);
    const gauges = await h.deliveries.gauges();
    expect(gauges.map((g) => [g.name, g.value])).toEqual([
      ['webhook_outbox_pending', 5],
      ['webhook_outbox_in_flight', 2],
    ]);
  });
});
