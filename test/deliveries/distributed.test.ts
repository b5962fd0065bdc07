import { describe, expect, it, onTestFinished } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { startDeliveries, type Deliveries } from '../../deliveries/index.js';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import { silentLogger } from '../helpers/context.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { LOCAL, processedEvent } from './harness.js';
import { redisStorage } from './redis-storage.js';

const clock = { now: () => Date.now() };

describe.runIf(REDIS_URL)(redisSuite('webhook deliveries shared through Redis'), () => {
  const url = REDIS_URL ?? '';

  /** A worker on the shared store; its periodic re-read is off, so only the change notices can tell it. */
  async function workers(count: number) {
    const storage = redisStorage(url);
    const stores: DeliveryStore[] = [];
    const running: Deliveries[] = [];
    const receivers: WebhookReceiver[] = [];
    onTestFinished(async () => {
      for (const deliveries of running) await deliveries.stop();
      for (const store of stores) await store.close();
      for (const receiver of receivers) await receiver.close();
      await storage.dispose();
    });
    for (let i = 0; i < count; i++) {
      const store = await storage.open();
      stores.push(store);
      running.push(
        await startDeliveries({
          store,
          config: LOCAL,
          emit: async () => undefined,
          logger: silentLogger,
          resyncMs: 3_600_000,
        }),
      );
    }
    return {
      running,
      receiver: async () => {
        const receiver = await startReceiver();
        receivers.push(receiver);
        return receiver;
      },
    };
  }

  it('should let a dispatcher in another worker send to an endpoint created, moved and re-keyed elsewhere', async () => {
    const { running, receiver } = await workers(3);
    const [manager, sender, admin] = running as [Deliveries, Deliveries, Deliveries];
    const first = await receiver();
    const second = await receiver();
    // The sender's service has read the endpoints (none yet) and cached them.
    expect(await sender.enqueueForEvent(processedEvent(clock))).toBe(0);

    const { endpoint } = await manager.service.createEndpoint({ url: first.url, ownerClientId: 'client-a' });
    // The manager stops sending: whatever arrives now was sent by the sender.
    await manager.stop();
    const added = await eventually(
      () => sender.enqueueForEvent(processedEvent(clock, { processedAt: new Date().toISOString() })),
      (count) => count === 1,
      50,
    );
    expect(added).toBe(1);
    await first.waitFor(1);

    // Moved to another URL and re-keyed at once by a third worker: the sender follows both.
    await admin.service.updateEndpoint(endpoint.id, { url: second.url });
    const { secret } = await admin.service.rotateSecret(endpoint.id, { overlapMs: 0 });
    await admin.stop();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const event = processedEvent(clock);
    expect(await sender.enqueueForEvent(event)).toBe(1);
    await second.waitFor(1);
    const delivered = second.received[0];
    expect(first.received).toHaveLength(1);
    expect(
      new Webhook(secret).verify(delivered?.body ?? '', {
        'webhook-id': String(delivered?.headers['webhook-id']),
        'webhook-timestamp': String(delivered?.headers['webhook-timestamp']),
        'webhook-signature': String(delivered?.headers['webhook-signature']),
      }),
    ).toMatchObject({ data: { id: event.id } });
    expect(String(delivered?.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });
});
