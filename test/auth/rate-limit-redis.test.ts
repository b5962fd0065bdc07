import { afterEach, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../gateway/auth/rate-limit.js';
import { openCacheStore } from '../../lib/cache/config.js';
import type { CacheStore } from '../../lib/cache/store.js';
import { createLogger } from '../../lib/logger.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

describe.runIf(REDIS_URL)(redisSuite('shared rate limits through Redis'), () => {
  const stores: CacheStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  const gatewayLimiter = (namespace: string, lines: string[]) => {
    const logger = createLogger({
      name: 'rate-limit',
      level: 'warn',
      destination: { write: (line: string) => lines.push(line) },
    });
    const store = openCacheStore(
      {
        redisUrl: REDIS_URL,
        maxEntries: 100,
        namespace,
        ttls: { profile: 60, subscription: 60, orders: 60, campaignReports: 60 },
      },
      logger,
    );
    stores.push(store);
    return new RedisRateLimiter(store.redis!, namespace, logger);
  };

  it('should spend one allowance from two gateways before either touched its cache, and warn about nothing', async () => {
    const namespace = `rl-${process.pid}-${Date.now()}`;
    const lines: string[] = [];
    // Two instances, as two gateway processes would open them, used at once for the rate limit only.
    const a = gatewayLimiter(namespace, lines);
    const b = gatewayLimiter(namespace, lines);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const limit = { requestsPerMinute: 1, burst: 4 };
    const decisions = [];
    for (let i = 0; i < 3; i++) {
      decisions.push(await a.take('shared-client', limit));
      decisions.push(await b.take('shared-client', limit));
    }
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, false, false]);
    expect(lines.join('')).not.toMatch(/shared rate limits unavailable/);
  });
});
