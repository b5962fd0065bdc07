import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import { deliveryManagement } from '../../deliveries/index.js';
import { openDeliveryStore } from '../../deliveries/store/open.js';
import { silentLogger } from '../helpers/context.js';
import { harness, LOCAL, processedEvent } from './harness.js';

/**
 * The management API may run in another process than the dispatcher (the events subgraph apart
 * from the worker): its DeliveryService works on its own connection to the same store, and every
 * change it makes must reach the running dispatcher and matcher through the store alone.
 */
describe('endpoint changes made by another DeliveryService', () => {
  it('should match a new endpoint at once, send with a rotated secret, stop when disabled and resend a replay', async () => {
    const h = await harness({ config: { changePollMs: 50 } });
    const otherStore = openDeliveryStore({ kind: 'sqlite', file: h.file });
    onTestFinished(() => otherStore.close());
    const management = deliveryManagement({
      store: otherStore,
      config: LOCAL,
      clock: h.clock,
      logger: silentLogger,
    });
    const receiver = await h.receiver();

    // Created elsewhere: the very next event is matched (no poll in between) and sent.
    const { endpoint, secret } = await management.createEndpoint({ url: receiver.url, ownerClientId: 'c' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await receiver.waitFor(1);
    const first = receiver.received[0];
    expect(() =>
      new Webhook(secret).verify(first?.body ?? '', first?.headers as Record<string, string>),
    ).not.toThrow();

    // Rotated elsewhere with no overlap: the next attempt signs with the new secret only.
    const rotated = await management.rotateSecret(endpoint.id, { overlapMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await receiver.waitFor(2);
    const second = receiver.received[1];
    expect(String(second?.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() =>
      new Webhook(rotated.secret).verify(second?.body ?? '', second?.headers as Record<string, string>),
    ).not.toThrow();

    // Replayed elsewhere: the dispatcher hears of it through the change version and sends it again.
    await management.replayMessage(String(first?.headers['webhook-id']));
    await receiver.waitFor(3);
    expect(receiver.received[2]?.headers['webhook-id']).toBe(first?.headers['webhook-id']);

    // Disabled elsewhere: new events are recorded as failed, nothing is sent.
    await management.disableEndpoint(endpoint.id);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await h.deliveries.dispatcher.settled();
    const messages = await management.messages({ endpointId: endpoint.id, limit: 10 });
    expect(messages[0]?.status).toBe('failed');
    expect(receiver.received).toHaveLength(3);
  });
});
