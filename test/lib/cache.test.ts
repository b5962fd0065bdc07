import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../lib/cache/bounded-map.js';
import { cacheMetrics } from '../../lib/cache/metrics.js';
import { RecordCache, recordKey } from '../../lib/cache/record-cache.js';
import { createCacheStore, type CacheStore } from '../../lib/cache/store.js';
import { silentLogger } from '../helpers/context.js';
import { DEAD_REDIS_URL, REDIS_URL, redisSuite } from '../helpers/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ttls = { profile: 60, subscription: 60, orders: 60, campaignReports: 60 };

/** The same contract for every store: run once in memory, once against the real Redis. */
function storeContract(make: () => CacheStore) {
  it('should keep values, known absences (null) and misses apart', async () => {
    const store = make();
    try {
      await store.set('a', { x: 1 }, 10_000);
      await store.set('b', null, 10_000);
      expect(await store.getMany(['a', 'b', 'c'])).toEqual([{ x: 1 }, null, undefined]);
    } finally {
      await store.close();
    }
  });

  it('should take a burst of writes made before it has connected', async () => {
    const store = make();
    try {
      await Promise.all([store.set('x', 1, 10_000), store.set('y', 2, 10_000), store.set('z', 3, 10_000)]);
      expect(await store.getMany(['x', 'y', 'z'])).toEqual([1, 2, 3]);
    } finally {
      await store.close();
    }
  });

  it('should expire entries after their TTL', async () => {
    const store = make();
    try {
      await store.set('short', 'v', 200);
      expect(await store.get('short')).toBe('v');
      await sleep(350);
      expect(await store.get('short')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('should read through, never cache errors, and invalidate by key', async () => {
    const store = make();
    try {
      const cache = new RecordCache(store, 'hubspot', 'portal-1', ttls);
      let calls = 0;
      const fetch = async (ids: readonly string[]) => {
        calls += 1;
        return new Map<string, string | null | Error>(
          ids.map((id) => [
            id,
            id === 'boom' ? new Error('upstream 500') : id === 'gone' ? null : `record ${id}`,
          ]),
        );
      };
      const first = await cache.load('profile', ['1', 'gone', 'boom'], fetch);
      expect([...first.values()].map((v) => (v instanceof Error ? 'error' : v))).toEqual([
        'record 1',
        null,
        'error',
      ]);
      const second = await cache.load('profile', ['1', 'gone', 'boom'], fetch);
      expect(calls).toBe(2);
      expect(second.get('1')).toBe('record 1');
      expect(second.get('gone')).toBeNull();
      const afterOnlyBoom = await cache.load('profile', ['1', 'gone'], fetch);
      expect(calls).toBe(2);
      expect(afterOnlyBoom.get('1')).toBe('record 1');
      await cache.invalidate('profile', '1');
      await cache.load('profile', ['1'], fetch);
      expect(calls).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('should answer found, absent and miss as three different things', async () => {
    const store = make();
    try {
      const cache = new RecordCache(store, 'shopify', 'shop-1', ttls);
      await cache.setMany<{ n: number } | number>('orders', [
        ['found', { n: 1 }],
        ['zero', 0],
        ['gone', null],
      ]);
      const known = await cache.lookup<{ n: number } | number>('orders', ['found', 'zero', 'gone', 'never']);
      expect(Object.fromEntries(known)).toEqual({
        found: { state: 'found', value: { n: 1 } },
        // A falsy value is a value, not an absence.
        zero: { state: 'found', value: 0 },
        gone: { state: 'absent' },
        never: { state: 'miss' },
      });
      await cache.invalidate('orders', 'gone');
      expect(await cache.lookupOne('orders', 'gone')).toEqual({ state: 'miss' });
      // What the cache stored for an absence before absences had their own marker is read again.
      await store.set(recordKey('shopify', 'shop-1', 'orders', 'old'), { v: null }, 10_000);
      expect(await cache.lookupOne('orders', 'old')).toEqual({ state: 'miss' });
    } finally {
      await store.close();
    }
  });

  it('should read one record through: a value or an absence is kept, an error is not', async () => {
    const store = make();
    try {
      const cache = new RecordCache(store, 'mailchimp', 'us1:list', ttls);
      // What the platform answers on each call: down, then no such member, then the member.
      const answers: (string | null | Error)[] = [new Error('upstream 503'), null, 'late'];
      let calls = 0;
      const fetch = async () => {
        const answer = answers[Math.min(calls, answers.length - 1)] ?? null;
        calls += 1;
        if (answer instanceof Error) throw answer;
        return answer;
      };
      await expect(cache.loadOne('subscription', 'a@example.com', fetch)).rejects.toThrow('upstream 503');
      expect(await cache.loadOne('subscription', 'a@example.com', fetch)).toBeNull();
      // The absence is known now: no call, even though the platform would answer 'late'.
      expect(await cache.loadOne('subscription', 'a@example.com', fetch)).toBeNull();
      expect(calls).toBe(2);
      await cache.invalidate('subscription', 'a@example.com');
      expect(await cache.loadOne('subscription', 'a@example.com', fetch)).toBe('late');
      expect(await cache.loadOne('subscription', 'a@example.com', fetch)).toBe('late');
      expect(calls).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('should keep a known absence for its own, shorter TTL', async () => {
    const store = make();
    try {
      const cache = new RecordCache(store, 'hubspot', 'portal-2', { ...ttls, absent: 0.2 });
      await cache.setMany('profile', [
        ['found', 'a record'],
        ['gone', null],
      ]);
      expect((await cache.lookupOne('profile', 'gone')).state).toBe('absent');
      await sleep(350);
      expect(Object.fromEntries(await cache.lookup('profile', ['found', 'gone']))).toEqual({
        found: { state: 'found', value: 'a record' },
        gone: { state: 'miss' },
      });
    } finally {
      await store.close();
    }
  });

  it('should count found and absent as hits, misses as misses', async () => {
    const store = make();
    try {
      const cache = new RecordCache(store, 'meta', `act-${Math.random()}`, ttls);
      await cache.setMany('campaignReports', [
        ['found', 'x'],
        ['gone', null],
      ]);
      const labels = { platform: 'meta', type: 'campaignReports' } as const;
      const [hits, misses] = [await cacheMetrics.hits.get(labels), await cacheMetrics.misses.get(labels)];
      await cache.lookup('campaignReports', ['found', 'gone', 'never']);
      expect((await cacheMetrics.hits.get(labels)) - hits).toBe(2);
      expect((await cacheMetrics.misses.get(labels)) - misses).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('should never share entries between two accounts of a platform', async () => {
    const store = make();
    try {
      const a = new RecordCache(store, 'shopify', 'shop-a', ttls);
      const b = new RecordCache(store, 'shopify', 'shop-b', ttls);
      await a.setMany('orders', [['c1', 'from a']]);
      expect(await b.lookupOne('orders', 'c1')).toEqual({ state: 'miss' });
      expect(recordKey('shopify', 'shop-a', 'orders', 'c1')).not.toBe(
        recordKey('shopify', 'shop-b', 'orders', 'c1'),
      );
    } finally {
      await store.close();
    }
  });
}

describe('a record cache that is off', () => {
  it('should send every read to the platform and keep nothing, absences included', async () => {
    const cache = RecordCache.off('hubspot', 'portal-1');
    let calls = 0;
    const fetch = async () => {
      calls += 1;
      return null;
    };
    expect(await cache.loadOne('profile', 'gone', fetch)).toBeNull();
    expect(await cache.loadOne('profile', 'gone', fetch)).toBeNull();
    const loaded = await cache.load('profile', ['1'], async (ids) => {
      calls += 1;
      return new Map(ids.map((id) => [id, `record ${id}`]));
    });
    expect(loaded.get('1')).toBe('record 1');
    expect(calls).toBe(3);
    await cache.setMany('profile', [['1', 'record 1']]);
    expect(await cache.lookupOne('profile', '1')).toEqual({ state: 'miss' });
  });
});

describe('in-memory cache store', () => {
  storeContract(() => createCacheStore({ maxEntries: 1_000, logger: silentLogger, namespace: 'mem' }));

  it('should evict the least recently used entry beyond its size', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect([...map.keys()]).toEqual(['a', 'c']);
  });
});

describe.runIf(REDIS_URL)(redisSuite('Redis cache store'), () => {
  storeContract(() =>
    createCacheStore({
      redisUrl: REDIS_URL,
      maxEntries: 1_000,
      logger: silentLogger,
      namespace: `t${process.pid}${Date.now()}`,
    }),
  );

  it('should share entries between two processes’ stores', async () => {
    const namespace = `shared${process.pid}${Date.now()}`;
    const one = createCacheStore({ redisUrl: REDIS_URL, maxEntries: 10, logger: silentLogger, namespace });
    const two = createCacheStore({ redisUrl: REDIS_URL, maxEntries: 10, logger: silentLogger, namespace });
    try {
      await one.set('k', { from: 'one' }, 10_000);
      expect(await two.get('k')).toEqual({ from: 'one' });
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe('a Redis that is down', () => {
  it('should turn every operation into a quick miss instead of an error', async () => {
    const store = createCacheStore({
      redisUrl: DEAD_REDIS_URL,
      maxEntries: 10,
      logger: silentLogger,
      timeoutMs: 100,
    });
    const errorsBefore = await cacheMetrics.errors.sum({ store: 'redis' });
    try {
      const started = Date.now();
      await store.set('k', 'v', 1_000);
      expect(await store.get('k')).toBeUndefined();
      expect(await store.getMany(['k', 'j'])).toEqual([undefined, undefined]);
      await store.delete('k');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect((await cacheMetrics.errors.sum({ store: 'redis' })) - errorsBefore).toBe(4);
    } finally {
      await store.close();
    }
  });
});
