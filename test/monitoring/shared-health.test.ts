import { createClient } from '@keyv/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionWindows,
  exportConnections,
  recordFacts,
  recordOutcome,
  remoteSources,
  resetConnectionHealth,
  setRemoteConnections,
} from '../../lib/health/recorder.js';
import { followSharedHealth, healthIndexKey, healthKey, publishHealth } from '../../lib/health/shared.js';
import { silentLogger } from '../helpers/context.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

/**
 * The health model across processes: another process's published connections merge with this
 * process's own (calls add up minute by minute, the latest success, error and facts win), and a
 * follower reads every snapshot under the prefix, skips one that does not parse and forgets one
 * that expired.
 */
const NOW = Date.now();
const endpoint = { name: 'endpoint:ep_1', kind: 'endpoint' as const };

afterEach(() => resetConnectionHealth());

describe('merging other processes’ health figures', () => {
  it('should add calls minute by minute and keep the latest success, error and facts', () => {
    // "The worker": 6 failed attempts and a disabled endpoint; published, then forgotten locally.
    for (let i = 0; i < 6; i++)
      recordOutcome(
        endpoint,
        { ok: false, latencyMs: 400, errorClass: 'http', code: 'WEBHOOK_HTTP' },
        NOW - 1_000,
      );
    recordFacts(endpoint, { disabled: true }, NOW - 1_000);
    const published = JSON.parse(JSON.stringify(exportConnections())) as ReturnType<typeof exportConnections>;
    resetConnectionHealth();
    // "The gateway": 2 successes of its own, earlier, and the endpoint enabled before the worker disabled it.
    recordOutcome(endpoint, { ok: true, latencyMs: 20 }, NOW - 2_000);
    recordOutcome(endpoint, { ok: true, latencyMs: 20 }, NOW - 2_000);
    recordFacts(endpoint, { disabled: false }, NOW - 5_000);
    setRemoteConnections('worker-1', published);

    const [merged] = connectionWindows(NOW);
    expect(merged!.windows['5m']).toMatchObject({
      calls: 8,
      errors: 6,
      errorsByClass: { http: 6 },
      latencyMs: { p50: 500, p95: 500, p99: 500 },
    });
    expect(merged!.lastSuccessAt).toBe(new Date(NOW - 2_000).toISOString());
    expect(merged!.lastError?.code).toBe('WEBHOOK_HTTP');
    expect(merged!.facts).toEqual({ disabled: true });
    // Forgotten (the worker's snapshot expired): back to this process's own figures.
    setRemoteConnections('worker-1', undefined);
    expect(connectionWindows(NOW)[0]!.windows['5m'].calls).toBe(2);
  });
});

describe.runIf(REDIS_URL)(redisSuite('health snapshots in Redis'), () => {
  let redis: ReturnType<typeof createClient>;
  const prefix = `test-shared-health-${process.pid}-${Date.now()}`;
  beforeAll(async () => {
    redis = createClient({ url: REDIS_URL ?? '' });
    await redis.connect();
  });
  afterAll(async () => {
    for (const key of await redis.keys(`${prefix}:*`)) await redis.del(key);
    await redis.close();
  });

  it('should read every published snapshot, skip one that does not parse and forget one that expired', async () => {
    recordOutcome(endpoint, { ok: true, latencyMs: 30 });
    const publisher = publishHealth({
      redis,
      prefix,
      process: 'worker-a',
      intervalMs: 60_000,
      logger: silentLogger,
    });
    await publisher.publish();
    resetConnectionHealth();
    await redis.set(
      healthKey(prefix, 'worker-b'),
      JSON.stringify({ version: 1, process: 'worker-b', connections: 'all' }),
    );
    await redis.zAdd(healthIndexKey(prefix), { score: Date.now() + 60_000, value: 'worker-b' });
    const follower = followSharedHealth({ redis, prefix, intervalMs: 60_000, logger: silentLogger });
    await follower.refresh();
    expect(remoteSources()).toEqual(['worker-a']);
    expect(connectionWindows()[0]).toMatchObject({ name: 'endpoint:ep_1', kind: 'endpoint' });
    expect(connectionWindows()[0]!.windows['5m'].calls).toBe(1);
    // The publisher stops (its snapshot is deleted): the next read forgets it.
    await publisher.stop();
    await follower.refresh();
    expect(remoteSources()).toEqual([]);
    expect(connectionWindows()).toEqual([]);
    follower.stop();
  });

  it('should find snapshots through the index of publishers, not the keyspace, and drop a killed publisher once expired', async () => {
    const own = `${prefix}-index`;
    const snapshot = (process: string) =>
      JSON.stringify({ version: 1, process, publishedAt: Date.now(), connections: [] });
    // What a publisher killed mid-run leaves: its snapshot and index entry, both expiring in 300 ms.
    await redis.set(healthKey(own, 'worker-k'), snapshot('worker-k'), { PX: 300 });
    await redis.zAdd(healthIndexKey(own), { score: Date.now() + 300, value: 'worker-k' });
    // A snapshot-shaped key no publisher listed (a SCAN of the keyspace would have merged it).
    await redis.set(healthKey(own, 'stray'), snapshot('stray'));
    const follower = followSharedHealth({ redis, prefix: own, intervalMs: 60_000, logger: silentLogger });
    await follower.refresh();
    expect(remoteSources()).toEqual(['worker-k']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await follower.refresh();
    expect(remoteSources()).toEqual([]);
    expect(await redis.zRange(healthIndexKey(own), 0, -1)).toEqual([]);
    follower.stop();
    await redis.del([healthKey(own, 'stray'), healthIndexKey(own)]);
  });
});
