import { describe, expect, it } from 'vitest';
import type { StoreChange } from '../../deliveries/store/types.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';
import { redisStorage } from './redis-storage.js';
import { deliveryStoreContract, endpointRecord, newMessage } from './store-contract.js';

const T0 = Date.parse('2026-11-28T10:00:00Z');

describe.runIf(REDIS_URL)(redisSuite('Redis delivery store'), () => {
  const url = REDIS_URL ?? '';
  deliveryStoreContract(async () => redisStorage(url));

  it('should let another worker take over a claim once its lease runs out, and not before', async () => {
    const storage = redisStorage(url);
    const [one, two] = [await storage.open(), await storage.open()];
    try {
      const endpoint = endpointRecord();
      await one.createEndpoint(endpoint, {
        id: 'sec_1',
        endpointId: endpoint.id,
        sealed: 'plain:x',
        createdAtMs: T0,
        expiresAtMs: null,
      });
      await one.enqueue([newMessage(endpoint.id, 'e1'), newMessage(endpoint.id, 'e2')]);
      const held = await one.claim(endpoint.id, 'dead-worker', T0, 5, T0 + 1_000);
      expect(held.messages.map((m) => m.eventId)).toEqual(['e1', 'e2']);
      // Nothing unclaimed is left, but the lease's end is when the survivor should look again.
      expect(held.nextDueMs).toBe(T0 + 1_000);
      expect(await two.dueTimes()).toEqual(new Map([[endpoint.id, T0 + 1_000]]));
      expect((await two.claim(endpoint.id, 'survivor', T0 + 999, 5, T0 + 2_000)).messages).toEqual([]);
      const taken = await two.claim(endpoint.id, 'survivor', T0 + 1_000, 5, T0 + 5_000);
      expect(taken.messages.map((m) => m.eventId)).toEqual(['e1', 'e2']);
      expect(await two.stats()).toEqual({ pending: 2, claimed: 2 });
    } finally {
      await one.close();
      await two.close();
      await storage.dispose();
    }
  });

  it('should tell the other instances, not itself, of endpoint changes and new messages', async () => {
    const storage = redisStorage(url);
    const [writer, reader] = [await storage.open(), await storage.open()];
    try {
      const heard: StoreChange[] = [];
      const ownHeard: StoreChange[] = [];
      reader.watch?.((change) => heard.push(change));
      writer.watch?.((change) => ownHeard.push(change));
      const endpoint = endpointRecord();
      await writer.createEndpoint(endpoint, {
        id: 'sec_1',
        endpointId: endpoint.id,
        sealed: 'plain:x',
        createdAtMs: T0,
        expiresAtMs: null,
      });
      await writer.disableEndpoint(endpoint.id, 'manual', T0 + 100);
      await writer.enableEndpoint(endpoint.id, T0 + 200);
      await writer.enqueue([newMessage(endpoint.id, 'e1')]);
      for (let i = 0; i < 50 && heard.length < 4; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard).toEqual([
        { kind: 'endpoint', endpointId: endpoint.id },
        { kind: 'endpoint', endpointId: endpoint.id },
        { kind: 'endpoint', endpointId: endpoint.id },
        { kind: 'due', endpointIds: [endpoint.id] },
      ]);
      expect(ownHeard).toEqual([]);
    } finally {
      await writer.close();
      await reader.close();
      await storage.dispose();
    }
  });
});
