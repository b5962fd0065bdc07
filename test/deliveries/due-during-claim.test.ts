import { describe, expect, it } from 'vitest';
import type { DeliveryStore } from '../../deliveries/store/types.js';
import { eventually } from '../helpers/gateway-process.js';
import { REDIS_URL } from '../helpers/redis.js';
import { answers, harness, processedEvent } from './harness.js';

/**
 * The store with one race made certain: a claiming pass reads its answer from the store before a
 * failed attempt's settle is written, and gets it back only after the settle is written and the
 * dispatcher has learnt the retry's due time. The pass's answer knows nothing of that retry.
 */
function settleLandsDuringAClaim(): {
  wrap: (store: DeliveryStore) => DeliveryStore;
  /** Resolves when the failed attempt's settle is waiting for a claiming pass. */
  settleWaiting: Promise<void>;
} {
  let waiting!: () => void;
  const settleWaiting = new Promise<void>((resolve) => (waiting = resolve));
  const wrap = (store: DeliveryStore) => {
    let claimRead: (() => void) | undefined;
    let settleKnown: Promise<void> | undefined;
    const raced = Object.create(store) as DeliveryStore;
    raced.settle = async (settlement) => {
      if (settlement.verdict.status !== 'pending') return store.settle(settlement);
      // The retry's settle waits until a claiming pass has read the store.
      await new Promise<void>((resolve) => {
        claimRead = resolve;
        waiting();
      });
      let known!: () => void;
      settleKnown = new Promise((resolve) => (known = resolve));
      const result = await store.settle(settlement);
      // The dispatcher reads the due time from this answer after this turn's microtasks.
      setImmediate(known);
      return result;
    };
    raced.claimMany = async (...args) => {
      const results = await store.claimMany(...args);
      if (claimRead) {
        claimRead();
        claimRead = undefined;
        await new Promise((resolve) => setImmediate(resolve));
        await settleKnown;
      }
      return results;
    };
    return raced;
  };
  return { wrap, settleWaiting };
}

describe.each([
  ['embedded', undefined],
  ['Redis', REDIS_URL],
] as const)('webhook retries learnt during a claiming pass (%s store)', (_name, redisUrl) => {
  it('should still send the retry when it comes due, with no new message to wake the endpoint', async () => {
    const race = settleLandsDuringAClaim();
    const h = await harness({
      config: { retryScheduleMs: [0, 100, 60_000], changePollMs: 60_000 },
      wrapStore: race.wrap,
      ...(redisUrl === undefined ? {} : { redisUrl }),
    });
    const flaky = await h.receiver(answers({ status: 500 }, { status: 200 }));
    const { endpoint } = await h.deliveries.service.createEndpoint({ url: flaky.url, ownerClientId: 'c' });
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await race.settleWaiting;
    // The first attempt failed; its settle waits for a pass, which the next message wakes.
    await h.deliveries.enqueueForEvent(processedEvent(h.clock));
    await flaky.waitFor(2);
    await eventually(
      () => h.deliveries.service.messages({ endpointId: endpoint.id, status: 'succeeded', limit: 10 }),
      (messages) => messages.length === 1,
    );
    await h.deliveries.dispatcher.settled();
    expect(flaky.received).toHaveLength(2);
    // The first message's retry comes due at +100 ms: nothing else is left to wake the endpoint.
    await h.tick(150);
    expect(flaky.received).toHaveLength(3);
    const messages = await h.deliveries.service.messages({ endpointId: endpoint.id, limit: 10 });
    expect(messages.map((message) => message.status)).toEqual(['succeeded', 'succeeded']);
  });
});
