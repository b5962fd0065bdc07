import { dropPrefix } from '../helpers/redis-prefix.js';
import { describe, expect, it } from 'vitest';
import { openEventLog } from '../../lib/events/log/open.js';
import { redisLogMetrics } from '../../lib/events/log/redis-continuity.js';
import { openRedisEventLog } from '../../lib/events/log/redis.js';
import { silentLogger } from '../helpers/context.js';
import { DEAD_REDIS_URL, REDIS_URL, redisSuite } from '../helpers/redis.js';
import { eventLogContract, incomingEvent, type LogStorage } from './log-contract.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let prefixes = 0;
/** A key prefix no other test or parallel run uses. */
function uniquePrefix(): string {
  prefixes += 1;
  return `mgtest:events:${process.pid}:${Date.now()}:${prefixes}`;
}

async function redisStorage(url: string, dedupeTtlMs?: number): Promise<LogStorage> {
  const prefix = uniquePrefix();
  return {
    open: () =>
      openEventLog(
        { kind: 'redis', url, prefix, ...(dedupeTtlMs === undefined ? {} : { dedupeTtlMs }) },
        silentLogger,
      ),
    dispose: async () => {
      await dropPrefix(url, prefix);
    },
  };
}

describe.runIf(REDIS_URL)(redisSuite('Redis Streams event log'), () => {
  const url = REDIS_URL ?? '';
  eventLogContract(() => redisStorage(url));

  it('should store appends made in the same turn together, each caller told its own, duplicates across them caught', async () => {
    const storage = await redisStorage(url);
    const log = await storage.open();
    try {
      const first = incomingEvent({ dedupeKey: 'same-turn-a' });
      const again = incomingEvent({ dedupeKey: 'same-turn-a' });
      const other = incomingEvent({ dedupeKey: 'same-turn-b' });
      const results = await Promise.all([log.append([first]), log.append([again, other]), log.append([])]);
      expect(results.map((r) => [r.stored.map((e) => e.dedupeKey), r.duplicates])).toEqual([
        [['same-turn-a'], 0],
        [['same-turn-b'], 1],
        [[], 0],
      ]);
      const claimed = await log.claim('p', 10, 30_000);
      expect(claimed.map((e) => e.id).sort()).toEqual(
        results.flatMap((r) => r.stored.map((e) => e.id)).sort(),
      );
    } finally {
      await log.close();
      await storage.dispose();
    }
  });

  it('should tell a watcher about events completed by another instance on the same prefix', async () => {
    const storage = await redisStorage(url);
    const [processor, subscriber] = [await storage.open(), await storage.open()];
    try {
      const { stored } = await processor.append([incomingEvent()]);
      let calls = 0;
      let wake: () => void = () => {};
      const woken = new Promise<void>((resolve) => (wake = resolve));
      const stop = subscriber.watch(() => {
        calls += 1;
        wake();
      });
      await sleep(200);
      expect(calls).toBe(0);
      await processor.claim('p', 1, 30_000);
      const delivered = await processor.complete(stored[0]?.id ?? '', { channels: ['elsewhere'] });
      await Promise.race([woken, sleep(3_000)]);
      expect(calls).toBe(1);
      expect(await subscriber.read(undefined, 10)).toEqual([delivered]);
      stop();
    } finally {
      await processor.close();
      await subscriber.close();
      await storage.dispose();
    }
  });

  it('should hand out events appended after Redis lost the log, and count the loss once', async () => {
    const storage = await redisStorage(url);
    const log = await storage.open();
    try {
      const resets = await redisLogMetrics.resets.get();
      await log.append([incomingEvent()]);
      // Every key of this log gone, consumer group included: Redis restarted without persistence.
      await storage.dispose();
      const { stored } = await log.append([incomingEvent()]);
      expect((await log.claim('p', 10, 30_000)).map((event) => event.id)).toEqual(stored.map((e) => e.id));
      expect(await log.claim('p', 10, 30_000)).toEqual([]);
      expect((await redisLogMetrics.resets.get()) - resets).toBe(1);
    } finally {
      await log.close();
      await storage.dispose();
    }
  });

  it('should forget a dedupe key after its TTL and then store a late redelivery again', async () => {
    const storage = await redisStorage(url, 300);
    const log = await storage.open();
    try {
      const event = incomingEvent();
      expect((await log.append([event])).stored).toHaveLength(1);
      expect((await log.append([event])).duplicates).toBe(1);
      await sleep(450);
      expect((await log.append([event])).stored).toHaveLength(1);
      expect((await log.stats()).pending).toBe(2);
    } finally {
      await log.close();
      await storage.dispose();
    }
  });
});

describe('a Redis event log whose Redis is down', () => {
  it('should fail to open, quickly, rather than accept events it cannot store', async () => {
    const started = Date.now();
    await expect(
      openRedisEventLog({ url: DEAD_REDIS_URL, prefix: uniquePrefix(), logger: silentLogger }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
