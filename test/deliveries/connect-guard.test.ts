import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { deliveryMetrics } from '../../deliveries/metrics.js';
import type { Resolver } from '../../deliveries/ssrf/guard.js';
import { harness, processedEvent } from './harness.js';

const v4 = (address: string): LookupAddress[] => [{ address, family: 4 }];

describe('SSRF guard at connection time', () => {
  it('should refuse a host that resolved to a public address at save and resolves to loopback now (DNS rebinding)', async () => {
    let lookups = 0;
    // Public the first time (the save), loopback ever after (the connection): a rebinding DNS.
    const rebinding: Resolver = async () => (lookups++ === 0 ? v4('203.0.113.7') : v4('127.0.0.1'));
    const h = await harness({ resolve: rebinding, config: { allowHttp: true, allow: [] } });
    const receiver = await h.receiver();
    const port = new URL(receiver.url).port;
    const { endpoint } = await h.deliveries.service.createEndpoint({
      url: `http://rebind.example.com:${port}/hooks`,
      ownerClientId: 'c',
    });
    const blocked = await deliveryMetrics.attempts.get({ outcome: 'blocked' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(lookups).toBeGreaterThanOrEqual(2);
    expect(receiver.received).toHaveLength(0);
    const [attempt] = await h.deliveries.service.attempts({ endpointId: endpoint.id, limit: 5 });
    expect(attempt).toMatchObject({
      statusCode: null,
      errorClass: 'blocked',
      errorMessage: 'refused: resolves to a loopback address',
    });
    expect(await deliveryMetrics.attempts.get({ outcome: 'blocked' })).toBe(blocked + 1);
  });

  it('should connect to the address the guard resolved, when the allow-list lets it through', async () => {
    const resolve: Resolver = async (hostname) => (hostname === 'receiver.test' ? v4('127.0.0.1') : []);
    const h = await harness({ resolve, config: { allowHttp: true, allow: ['127.0.0.1/32'] } });
    const receiver = await h.receiver();
    const port = new URL(receiver.url).port;
    await h.deliveries.service.createEndpoint({
      url: `http://receiver.test:${port}/hooks`,
      ownerClientId: 'c',
    });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    // receiver.test exists in no DNS: the request reached the receiver through the guard's lookup.
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]?.headers.host).toBe(`receiver.test:${port}`);
  });

  it('should check an address URL again on every attempt, so a narrowed allow-list applies at once', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    // The same data, a deployment whose allow-list no longer has 127.0.0.1.
    const restarted = await h.restart({ allowHttp: true, allow: [] });
    await restarted.enqueueForEvent(processedEvent(h.clock));
    await restarted.dispatcher.settled();
    expect(receiver.received).toHaveLength(0);
    const [attempt] = await restarted.service.attempts({ endpointId: endpoint.id, limit: 5 });
    expect(attempt).toMatchObject({
      errorClass: 'blocked',
      errorMessage: 'refused: resolves to a loopback address',
    });
  });

  it('should refuse to save an endpoint URL the guard refuses, with the reason', async () => {
    const h = await harness({ config: { allowHttp: false, allow: [] } });
    await expect(
      h.deliveries.service.createEndpoint({
        url: 'https://169.254.169.254/latest/meta-data/',
        ownerClientId: 'c',
      }),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', reason: 'url-blocked' });
    await expect(
      h.deliveries.service.createEndpoint({ url: 'http://93.184.215.14/hook', ownerClientId: 'c' }),
    ).rejects.toMatchObject({ reason: 'url-invalid' });
    expect(await h.deliveries.service.endpoints()).toEqual([]);
  });
});
