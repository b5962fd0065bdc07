import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/gateway-process.js';
import { harness, processedEvent } from './harness.js';

describe('webhook delivery lanes', () => {
  it('should deliver everything to a healthy endpoint while a dead one holds all its attempts (no head-of-line blocking)', async () => {
    // Attempts to the dead endpoint outlast the test: they hold their lane the whole time.
    const h = await harness({ config: { attemptTimeoutMs: 120_000 } });
    const dead = await h.receiver(() => 'hold');
    const healthy = await h.receiver();
    const deadEndpoint = await h.deliveries.service.createEndpoint({ url: dead.url, ownerClientId: 'c' });
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: healthy.url, ownerClientId: 'c' });
    for (let i = 0; i < 60; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    const succeeded = await eventually(
      () => h.deliveries.service.messages({ endpointId: endpoint.id, status: 'succeeded', limit: 100 }),
      (messages) => messages.length === 60,
    );
    expect(succeeded).toHaveLength(60);
    expect(new Set(healthy.received.map((r) => r.headers['webhook-id'])).size).toBe(60);
    // The dead endpoint has exactly its own lane's worth in flight; the rest of its messages wait.
    expect(dead.held()).toBe(16);
    expect(dead.received).toHaveLength(16);
    expect(
      await h.deliveries.service.messages({
        endpointId: deadEndpoint.endpoint.id,
        status: 'pending',
        limit: 100,
      }),
    ).toHaveLength(60);
  });

  it("should claim a failing endpoint's retries coming due close together in one pass, late by at most 25 ms", async () => {
    // No change poll during the test: its re-read would be a pass of its own.
    const h = await harness({ config: { retryScheduleMs: [0, 100, 60_000], changePollMs: 60_000 } });
    const failing = await h.receiver(() => ({ status: 500 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: failing.url, ownerClientId: 'c' });
    const start = h.clock.now();
    // First attempts at +0, +5 and +10 ms: their retries come due at +100, +105 and +110.
    for (let i = 0; i < 3; i++) {
      await h.deliveries.enqueueForEvent(processedEvent(h.clock));
      await h.deliveries.dispatcher.settled();
      if (i < 2) await h.tick(5);
    }
    await h.tick(90); // +100: the first retry, due now, wakes a pass
    await h.tick(10); // +110: the others are due, but wait for the gap after that pass
    expect(failing.received).toHaveLength(4);
    await h.tick(15); // +125: one pass takes both
    expect(failing.received).toHaveLength(6);
    const attempts = await h.deliveries.service.attempts({ endpointId: endpoint.id, limit: 10 });
    expect(attempts.map((a) => a.attemptedAtMs - start).sort((a, b) => a - b)).toEqual([
      0, 5, 10, 100, 125, 125,
    ]);
  });

  it("should keep to an endpoint's rate limit per second, and a limited endpoint should not slow another", async () => {
    const h = await harness();
    const limited = await h.receiver();
    const free = await h.receiver();
    await h.deliveries.service.createEndpoint({
      url: limited.url,
      ownerClientId: 'c',
      rateLimitPerSecond: 2,
    });
    await h.deliveries.service.createEndpoint({ url: free.url, ownerClientId: 'c' });
    for (let i = 0; i < 5; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect([limited.received.length, free.received.length]).toEqual([2, 5]);
    await h.tick(499);
    expect(limited.received).toHaveLength(2);
    await h.tick(1);
    expect(limited.received).toHaveLength(3);
    await h.tick(500);
    expect(limited.received).toHaveLength(4);
    await h.tick(1_000);
    expect(limited.received).toHaveLength(5);
  });

  it('should take a changed rate limit at once', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
      rateLimitPerSecond: 1,
    });
    for (let i = 0; i < 4; i++) await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
    await h.deliveries.service.updateEndpoint(endpoint.id, { rateLimitPerSecond: null });
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(4);
  });
});
