import Database from 'better-sqlite3';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { messageIdFor } from '../../deliveries/ids.js';
import type { ReceivedWebhook } from '../helpers/webhook-receiver.js';
import { answers, harness, processedEvent } from './harness.js';

const HOUR = 3_600_000;

const signatures = (request: ReceivedWebhook | undefined): string[] =>
  String(request?.headers['webhook-signature'] ?? '').split(' ');

/** The `v1,` entry the official library computes for this request and `secret`. */
const expected = (secret: string, request: ReceivedWebhook | undefined): string =>
  new Webhook(secret).sign(
    String(request?.headers['webhook-id']),
    new Date(Number(request?.headers['webhook-timestamp']) * 1000),
    request?.body ?? '',
  );

describe('webhook endpoints', () => {
  it('should refuse bad input with the field named, and unknown ids with a reason', async () => {
    const h = await harness();
    await expect(
      h.deliveries.service.createEndpoint({
        url: 'http://127.0.0.1/hook',
        ownerClientId: 'c',
        eventTypes: ['NOPE'],
      }),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'invalid-input',
      message: expect.stringContaining('eventTypes.0'),
    });
    await expect(
      h.deliveries.service.createEndpoint({
        url: 'http://127.0.0.1/hook',
        ownerClientId: 'c',
        rateLimitPerSecond: 0,
      }),
    ).rejects.toMatchObject({
      reason: 'invalid-input',
      message: expect.stringContaining('rateLimitPerSecond'),
    });
    await expect(h.deliveries.service.updateEndpoint('ep_nope', { description: 'x' })).rejects.toMatchObject({
      reason: 'endpoint-not-found',
    });
    await expect(h.deliveries.service.replayMessage('msg_nope')).rejects.toMatchObject({
      reason: 'message-not-found',
    });
  });

  it('should show the secret once and store it sealed when a sealing key is set', async () => {
    const h = await harness({ config: { secretSealingKey: Buffer.alloc(32, 1).toString('base64') } });
    const receiver = await h.receiver();
    const { endpoint, secret } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
    });
    expect(JSON.stringify(await h.deliveries.service.endpoint(endpoint.id))).not.toContain('whsec_');
    const db = new Database(h.file, { readonly: true });
    try {
      const stored = db
        .prepare<[string], { sealed: string }>('SELECT sealed FROM webhook_secrets WHERE endpoint_id = ?')
        .all(endpoint.id);
      expect(stored).toHaveLength(1);
      expect(stored[0]?.sealed).toMatch(/^sealed:v1:/);
      expect(stored[0]?.sealed).not.toContain(secret.slice(6));
    } finally {
      db.close();
    }
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(signatures(receiver.received[0])).toEqual([expected(secret, receiver.received[0])]);
  });

  it('should keep a message it cannot sign (sealed with another key) pending, and send it once the key is back', async () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const h = await harness({ config: { secretSealingKey: key } });
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const wrongKey = await h.restart({ secretSealingKey: Buffer.alloc(32, 2).toString('base64') });
    const event = processedEvent(h.clock);
    await wrongKey.enqueueForEvent(event);
    await wrongKey.dispatcher.settled();
    const id = messageIdFor(endpoint.id, event);
    expect(receiver.received).toHaveLength(0);
    expect(await wrongKey.service.message(id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await wrongKey.service.attempts({ messageId: id, limit: 5 })).toEqual([]);
    const rightKey = await h.restart({ secretSealingKey: key });
    await rightKey.dispatcher.settled();
    expect(receiver.received).toHaveLength(0);
    await h.tick(30_000);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([id]);
  });

  it('should send both signatures while a rotated secret overlaps, then only the new one', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint, secret: first } = await h.deliveries.service.createEndpoint({
      url: receiver.url,
      ownerClientId: 'c',
    });
    const rotated = await h.deliveries.service.rotateSecret(endpoint.id);
    expect(rotated.secret).not.toBe(first);
    expect(rotated.previousSecretsExpireAtMs).toBe(h.clock.now() + 24 * HOUR);
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(signatures(receiver.received[0])).toEqual([
      expected(rotated.secret, receiver.received[0]),
      expected(first, receiver.received[0]),
    ]);
    h.clock.advance(24 * HOUR - 1);
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(signatures(receiver.received[1])).toHaveLength(2);
    h.clock.advance(1);
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(signatures(receiver.received[2])).toEqual([expected(rotated.secret, receiver.received[2])]);
    // A leaked secret: rotated out at once.
    const urgent = await h.deliveries.service.rotateSecret(endpoint.id, { overlapMs: 0 });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    expect(signatures(receiver.received[3])).toEqual([expected(urgent.secret, receiver.received[3])]);
  });

  it('should deliver only the event types and channels an endpoint asked for, from its creation on', async () => {
    const h = await harness();
    const orders = await h.receiver();
    const vip = await h.receiver();
    const both = await h.receiver();
    const early = processedEvent(h.clock, { type: 'ORDER_PLACED', channels: ['vip'] });
    h.clock.advance(1);
    await h.deliveries.service.createEndpoint({
      url: orders.url,
      ownerClientId: 'c',
      eventTypes: ['ORDER_PLACED'],
    });
    await h.deliveries.service.createEndpoint({ url: vip.url, ownerClientId: 'c', channels: ['vip'] });
    await h.deliveries.service.createEndpoint({
      url: both.url,
      ownerClientId: 'c',
      eventTypes: ['FORM_SUBMITTED'],
      channels: ['vip'],
    });
    const events = [
      processedEvent(h.clock, { type: 'ORDER_PLACED', channels: [] }),
      processedEvent(h.clock, { type: 'FORM_SUBMITTED', channels: ['vip', 'leads'] }),
      processedEvent(h.clock, { type: 'FORM_SUBMITTED', channels: ['leads'] }),
    ];
    for (const event of [early, ...events]) await h.deliveries.enqueueForEvent(event);
    await h.deliveries.dispatcher.settled();
    const ids = (received: ReceivedWebhook[]) =>
      received.map((r) => (JSON.parse(r.body) as { data: { id: string } }).data.id);
    expect(ids(orders.received)).toEqual([events[0]?.id]);
    expect(ids(vip.received)).toEqual([events[1]?.id]);
    expect(ids(both.received)).toEqual([events[1]?.id]);
  });

  it('should never send an endpoint a notice about itself', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const other = await h.deliveries.service.createEndpoint({
      url: `${receiver.url}/other`,
      ownerClientId: 'c',
    });
    const notice = (endpointId: string) =>
      processedEvent(h.clock, {
        type: 'WEBHOOK_ENDPOINT_DISABLED',
        source: 'deliveries',
        customer: null,
        properties: { endpointId, reason: 'gone' },
      });
    expect(await h.deliveries.enqueueForEvent(notice(endpoint.id))).toBe(1);
    expect(await h.deliveries.enqueueForEvent(notice(other.endpoint.id))).toBe(1);
    await h.deliveries.dispatcher.settled();
    expect(
      receiver.received.map((r) => [
        r.path,
        (JSON.parse(r.body) as { data: { properties: { endpointId: string } } }).data.properties.endpointId,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['/hooks', other.endpoint.id],
        ['/hooks/other', endpoint.id],
      ]),
    );
    expect(receiver.received).toHaveLength(2);
  });

  it('should replay one message whatever its status, under the same webhook-id', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const event = processedEvent(h.clock);
    await h.deliveries.enqueueForEvent(event);
    await h.deliveries.dispatcher.settled();
    const id = messageIdFor(endpoint.id, event);
    expect(await h.deliveries.service.message(id)).toMatchObject({ status: 'succeeded' });
    expect(await h.deliveries.service.replayMessage(id)).toMatchObject({ status: 'pending', attempts: 0 });
    await h.deliveries.dispatcher.settled();
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([id, id]);
    expect(receiver.received[1]?.body).toBe(receiver.received[0]?.body);
    expect(await h.deliveries.service.message(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await h.deliveries.service.attempts({ messageId: id, limit: 5 })).toHaveLength(2);
  });

  it('should recover after an outage only what did not succeed since the time given', async () => {
    const h = await harness({ config: { retryScheduleMs: [0] } });
    let up = true;
    const receiver = await h.receiver(() => ({ status: up ? 200 : 503 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const failedBefore = processedEvent(h.clock);
    up = false;
    await h.deliveries.enqueueForEvent(failedBefore);
    await h.deliveries.dispatcher.settled();
    h.clock.advance(HOUR);
    const outageStart = h.clock.now();
    up = true;
    const delivered = processedEvent(h.clock);
    await h.deliveries.enqueueForEvent(delivered);
    await h.deliveries.dispatcher.settled();
    up = false;
    const lost = [processedEvent(h.clock), processedEvent(h.clock)];
    for (const event of lost) await h.deliveries.enqueueForEvent(event);
    await h.deliveries.dispatcher.settled();
    expect(
      (await h.deliveries.service.messages({ endpointId: endpoint.id, status: 'exhausted', limit: 10 }))
        .length,
    ).toBe(3);
    up = true;
    receiver.received.length = 0;
    expect(await h.deliveries.service.recoverEndpoint(endpoint.id, outageStart)).toBe(2);
    await h.deliveries.dispatcher.settled();
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id']))).toEqual(
      new Set(lost.map((event) => messageIdFor(endpoint.id, event))),
    );
    expect(await h.deliveries.service.message(messageIdFor(endpoint.id, failedBefore))).toMatchObject({
      status: 'exhausted',
    });
    // Nothing left to recover since then: what succeeded is never sent again.
    expect(await h.deliveries.service.recoverEndpoint(endpoint.id, outageStart)).toBe(0);
  });

  it('should refuse replay and recovery on a disabled endpoint, and resume with recovery once enabled', async () => {
    const h = await harness();
    const receiver = await h.receiver(answers({ status: 200 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    const since = h.clock.now();
    await h.deliveries.service.disableEndpoint(endpoint.id);
    const event = processedEvent(h.clock);
    await h.deliveries.enqueueForEvent(event);
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(0);
    await expect(h.deliveries.service.recoverEndpoint(endpoint.id, since)).rejects.toMatchObject({
      reason: 'endpoint-disabled',
    });
    await expect(h.deliveries.service.replayMessage(messageIdFor(endpoint.id, event))).rejects.toMatchObject({
      reason: 'endpoint-disabled',
    });
    await h.deliveries.service.enableEndpoint(endpoint.id);
    expect(await h.deliveries.service.recoverEndpoint(endpoint.id, since)).toBe(1);
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(1);
  });

  it('should delete an endpoint and stop sending to it', async () => {
    const h = await harness();
    const receiver = await h.receiver();
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    await h.deliveries.service.deleteEndpoint(endpoint.id);
    expect(await h.deliveries.enqueueForEvent(processedEvent(h.clock))).toBe(0);
    await h.deliveries.dispatcher.settled();
    expect(receiver.received).toHaveLength(0);
    await expect(h.deliveries.service.deleteEndpoint(endpoint.id)).rejects.toMatchObject({
      reason: 'endpoint-not-found',
    });
  });
});
