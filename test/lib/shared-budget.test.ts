import { afterAll, describe, expect, it } from 'vitest';
import type { UpstreamCall, UpstreamThrottle } from '../../lib/upstream/client.js';
import { connectSharedRedis } from '../../lib/redis/shared-client.js';
import { reserveOf, SharedBudgets, windowMarginMs } from '../../lib/upstream/shared-budget.js';
import { QueuedThrottle, SlidingWindowPolicy } from '../../lib/upstream/throttle.js';
import { REDIS_URL, redisSuite, testRedisClients } from '../helpers/redis.js';
import { busiestWindow } from '../helpers/rolling-window.js';

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

describe('the margin kept on a shared rolling window', () => {
  it('leaves 97.5% of a ten-second plan in the long run (README), at least 100 ms', () => {
    expect(10_000 / (10_000 + windowMarginMs(10_000))).toBeCloseTo(0.9756, 3);
    expect(windowMarginMs(1_000)).toBe(100);
  });
});

describe.runIf(REDIS_URL)(redisSuite('a platform account budget shared by two processes'), () => {
  const prefix = `test-budget-${process.pid}-${Date.now()}`;
  const { connect, close } = testRedisClients(prefix);

  afterAll(close);

  it('without sharing, two processes together exceed the plan (what the shared budget is for)', async () => {
    const starts = await startsThrough([localThrottle(), localThrottle()]);
    expect(busiestWindow(starts, WINDOW_MS)).toBeGreaterThan(MAX);
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
    expect(busiestWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(MAX);
  }, 30_000);

  it('lets the two processes use the whole plan, to the millisecond (whole-second windows used half of this one)', async () => {
    const budget = { name: 'general', max: MAX, windowMs: WINDOW_MS };
    const account = `account-fraction-${Date.now()}`;
    const windows = 3;
    const until = Date.now() + windows * WINDOW_MS;
    const starts: number[] = [];
    const saturate = async (throttle: UpstreamThrottle) =>
      Promise.all(
        Array.from({ length: MAX }, async () => {
          while (Date.now() < until) {
            const c = call();
            const granted = await throttle.acquire(c, until + 250).then(
              () => true,
              () => false,
            );
            if (!granted) return;
            if (Date.now() < until) starts.push(Date.now());
            throttle.release(c, undefined);
          }
        }),
      );
    // Each process: its own throttle allowing itself the whole plan, its own Redis connection.
    const sharedThrottle = async () =>
      new SharedBudgets({ client: await connect(), prefix }).wrap(
        localThrottle(),
        'hubspot',
        account,
        budget,
      );
    await Promise.all([saturate(await sharedThrottle()), saturate(await sharedThrottle())]);
    starts.sort((a, b) => a - b);
    expect(busiestWindow(starts, WINDOW_MS)).toBeLessThanOrEqual(MAX);
    // rate-limiter-flexible's whole-second windows allowed 5 a second here: 30 of these 60.
    expect(starts.length).toBeGreaterThanOrEqual(Math.floor(windows * MAX * 0.9));
  }, 30_000);

  it('background calls (sync writes) leave part of every window to interactive ones', async () => {
    const budget = { name: 'general', max: 100, windowMs: 10_000 };
    const account = `account-bg-${Date.now()}`;
    const shared = new SharedBudgets({ client: await connect(), prefix });
    const local = new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(1_000, 10_000) });
    const throttle = shared.wrap(local, 'hubspot', account, budget);
    // Background calls fill what they may of the window...
    let started = 0;
    const pending = Array.from({ length: budget.max }, async () => {
      const c = call('background');
      await throttle.acquire(c, Date.now() + 2_000).then(
        () => {
          started += 1;
          throttle.release(c, undefined);
        },
        () => undefined,
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(started).toBe(budget.max - reserveOf(budget.max));
    // ...and interactive calls still start, in the same window, up to the plan.
    for (let i = 0; i < reserveOf(budget.max); i++) {
      const interactive = call();
      await throttle.acquire(interactive, Date.now() + 100);
      throttle.release(interactive, undefined);
    }
    await expect(throttle.acquire(call(), Date.now() + 1_000)).rejects.toMatchObject({
      details: { code: 'UPSTREAM_RATE_LIMITED' },
    });
    await Promise.all(pending);
  }, 30_000);

  it('a call that cannot start before its deadline fails at once with UPSTREAM_RATE_LIMITED', async () => {
    const budget = { name: 'general', max: 2, windowMs: 10_000 };
    const shared = new SharedBudgets({ client: await connect(), prefix });
    const throttle = shared.wrap(localThrottle(), 'hubspot', `account-deadline-${Date.now()}`, budget);
    for (let i = 0; i < budget.max; i++) {
      const c = call();
      await throttle.acquire(c, Date.now() + 5_000);
      throttle.release(c, undefined);
    }
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
