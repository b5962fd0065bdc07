import { afterAll, describe, expect, it } from 'vitest';
import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';
import type { UpstreamCall, UpstreamThrottle } from '../../lib/upstream/client.js';
import { SharedBudgets, subWindows } from '../../lib/upstream/shared-budget.js';
import { QueuedThrottle, SlidingWindowPolicy } from '../../lib/upstream/throttle.js';
import { REDIS_URL, redisSuite } from '../helpers/redis.js';

/**
 * One platform account spent by two processes: each has its own throttle with the plan's whole
 * limit and its own Redis connection, as two gateway or worker processes would. With the shared
 * budget, the calls both start in any rolling window stay within the plan; without it, they add up
 * to twice that (the failure this prevents: the platform's 429s on a dashboard query).
 */

const MAX = 20;
const WINDOW_MS = 2_000;
const CALLS_EACH = 20;

const call = (priority?: 'background'): UpstreamCall =>
  ({
    method: 'GET',
    endpoint: 'GET /crm/v3/objects/contacts',
    path: '/crm/v3/objects/contacts',
    ...(priority ? { priority } : {}),
  }) as UpstreamCall;

const localThrottle = () =>
  new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(MAX, WINDOW_MS) });

/** Starts `CALLS_EACH` calls through each throttle at once; answers when each one started. */
async function startsThrough(throttles: readonly UpstreamThrottle[], priority?: 'background') {
  const starts: number[] = [];
  await Promise.all(
    throttles.flatMap((throttle) =>
      Array.from({ length: CALLS_EACH }, async () => {
        const c = call(priority);
        await throttle.acquire(c, Date.now() + 60_000);
        starts.push(Date.now());
        throttle.release(c, undefined);
      }),
    ),
  );
  return starts.sort((a, b) => a - b);
}

/** The most calls started in any rolling window of WINDOW_MS. */
function busiestWindow(starts: readonly number[]): number {
  let most = 0;
  for (const [i, start] of starts.entries()) {
    const inWindow = starts.slice(i).filter((t) => t < start + WINDOW_MS).length;
    most = Math.max(most, inWindow);
  }
  return most;
}

describe('sub-windows of a shared budget', () => {
  it('keep every rolling window (and its margin) within the plan, and leave most of it usable', () => {
    for (const [max, windowMs] of [
      [100, 10_000],
      [190, 10_000],
      [39, 19_500],
    ] as const) {
      const split = subWindows(max, windowMs);
      if (!split) throw new Error(`${max} per ${windowMs} ms was not split`);
      const margin = Math.max(100, windowMs * 0.025);
      // The fixed windows a rolling one (plus its margin) overlaps.
      const overlapped = Math.ceil((windowMs + margin) / split.ms) + 1;
      expect(overlapped * split.points).toBeLessThanOrEqual(max);
      expect(split.ms % 1000).toBe(0);
      // At least two thirds of the plan stays usable.
      expect(split.points / split.ms).toBeGreaterThanOrEqual((max / windowMs) * (2 / 3));
    }
    expect(subWindows(100, 10_000)).toEqual({ ms: 1_000, points: 8 });
  });

  it('are not made for a limit too small to split: the process keeps its own', () => {
    expect(subWindows(1, 1_000)).toBeUndefined();
  });
});

describe.runIf(REDIS_URL)(redisSuite('a platform account budget shared by two processes'), () => {
  const clients: RedisClient[] = [];
  const prefix = `test-budget-${process.pid}-${Date.now()}`;
  const connect = async () => {
    const client = await connectSharedRedis({ url: REDIS_URL ?? '' });
    clients.push(client);
    return client;
  };

  afterAll(async () => {
    const [first] = clients;
    if (first) {
      const keys = await first.keys(`${prefix}:*`);
      if (keys.length > 0) await first.del(keys);
    }
    for (const client of clients) await client.close();
  });

  it('without sharing, two processes together exceed the plan (what the shared budget is for)', async () => {
    const starts = await startsThrough([localThrottle(), localThrottle()]);
    expect(busiestWindow(starts)).toBeGreaterThan(MAX);
  });

  it('with sharing, the calls both processes start in any window stay within the plan', async () => {
    const budget = { name: 'general', max: MAX, windowMs: WINDOW_MS };
    const account = `account-${Date.now()}`;
    const processA = new SharedBudgets({ client: await connect(), prefix });
    const processB = new SharedBudgets({ client: await connect(), prefix });
    const starts = await startsThrough([
      processA.wrap(localThrottle(), 'hubspot', account, budget),
      processB.wrap(localThrottle(), 'hubspot', account, budget),
    ]);
    expect(starts).toHaveLength(2 * CALLS_EACH);
    expect(busiestWindow(starts)).toBeLessThanOrEqual(MAX);
  }, 30_000);

  it('background calls (sync writes) leave part of every window to interactive ones', async () => {
    // Sub-windows of about a second: long enough that this test's steps happen in one.
    const budget = { name: 'general', max: 100, windowMs: 10_000 };
    const account = `account-bg-${Date.now()}`;
    const shared = new SharedBudgets({ client: await connect(), prefix });
    const local = new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(1_000, 10_000) });
    const throttle = shared.wrap(local, 'hubspot', account, budget);
    const points = subWindows(100, 10_000)?.points ?? 0;
    // Background calls fill what they may of the current sub-window...
    let started = 0;
    const pending = Array.from({ length: points }, async () => {
      const c = call('background');
      await throttle.acquire(c, Date.now() + 5_000);
      started += 1;
      throttle.release(c, undefined);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(started).toBe(points - 1);
    // ...and an interactive call still starts at once, in the same sub-window.
    const before = Date.now();
    const interactive = call();
    await throttle.acquire(interactive, Date.now() + 5_000);
    throttle.release(interactive, undefined);
    expect(Date.now() - before).toBeLessThan(500);
    await Promise.all(pending);
  }, 30_000);

  it('a call that cannot start before its deadline fails at once with UPSTREAM_RATE_LIMITED', async () => {
    const budget = { name: 'general', max: 2, windowMs: 10_000 };
    const shared = new SharedBudgets({ client: await connect(), prefix });
    const throttle = shared.wrap(localThrottle(), 'hubspot', `account-deadline-${Date.now()}`, budget);
    const first = call();
    await throttle.acquire(first, Date.now() + 5_000);
    throttle.release(first, undefined);
    await expect(throttle.acquire(call(), Date.now() + 1_000)).rejects.toMatchObject({
      details: { code: 'UPSTREAM_RATE_LIMITED', upstreamCode: 'CLIENT_THROTTLE' },
    });
  });

  it('counts in the process alone when Redis cannot be reached, rather than fail the call', async () => {
    const client = await connectSharedRedis({ url: REDIS_URL ?? '', disableOfflineQueue: true });
    const shared = new SharedBudgets({ client, prefix });
    const throttle = shared.wrap(localThrottle(), 'hubspot', `account-down-${Date.now()}`, {
      name: 'general',
      max: 100,
      windowMs: 10_000,
    });
    await client.close();
    const c = call();
    await expect(throttle.acquire(c, Date.now() + 5_000)).resolves.toBeUndefined();
    throttle.release(c, undefined);
  });
});
