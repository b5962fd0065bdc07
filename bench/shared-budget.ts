import { connectSharedRedis } from '../lib/redis/shared-client.js';
import type { UpstreamCall, UpstreamThrottle } from '../lib/upstream/client.js';
import { SharedBudgets } from '../lib/upstream/shared-budget.js';
import { QueuedThrottle, SlidingWindowPolicy } from '../lib/upstream/throttle.js';
import { busiestWindow } from '../test/helpers/rolling-window.js';

/**
 * `npm run bench:shared-budget [-- MAX WINDOW_MS SECONDS]`: how much of a plan two processes
 * sharing one account's budget through Redis can use. Two throttles, each on its own Redis
 * connection and each allowing itself the whole plan locally, ask for calls as fast as they can for
 * SECONDS; the figure is the calls granted in that time over what the plan allows in it, and the
 * busiest rolling window (which must never pass MAX). Needs REDIS_URL. Default: HubSpot's Free
 * plan, 100 calls per 10 s, for 30 s.
 */
const [maxArg, windowArg, secondsArg] = process.argv.slice(2);
const MAX = Number(maxArg ?? 100);
const WINDOW_MS = Number(windowArg ?? 10_000);
const SECONDS = Number(secondsArg ?? 30);
const url = process.env['REDIS_URL'];
if (!url) throw new Error('bench:shared-budget needs REDIS_URL');

const call = (): UpstreamCall =>
  ({ method: 'GET', endpoint: 'GET /bench', path: '/bench' }) as unknown as UpstreamCall;

/** Starts calls through `throttle` from `workers` loops until `until`; answers their start times. */
async function saturate(throttle: UpstreamThrottle, workers: number, until: number): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < until) {
        const c = call();
        try {
          await throttle.acquire(c, until + 250);
        } catch {
          return;
        }
        if (Date.now() < until) starts.push(Date.now());
        throttle.release(c, undefined);
      }
    }),
  );
  return starts;
}

const prefix = `bench-budget-${process.pid}`;
const clients = [await connectSharedRedis({ url }), await connectSharedRedis({ url })];
const account = `bench-${Date.now()}`;
const budget = { name: 'general', max: MAX, windowMs: WINDOW_MS };
const until = Date.now() + SECONDS * 1000;
const runs = await Promise.all(
  clients.map((client) =>
    saturate(
      new SharedBudgets({ client, prefix }).wrap(
        new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(MAX, WINDOW_MS) }),
        'hubspot',
        account,
        budget,
      ),
      MAX,
      until,
    ),
  ),
);
const starts = runs.flat().sort((a, b) => a - b);
const allowed = (MAX * SECONDS * 1000) / WINDOW_MS;
console.log(
  JSON.stringify({
    plan: `${MAX} per ${WINDOW_MS} ms`,
    seconds: SECONDS,
    granted: starts.length,
    byProcess: runs.map((r) => r.length),
    allowed,
    usableFraction: Math.round((starts.length / allowed) * 1000) / 1000,
    busiestRollingWindow: busiestWindow(starts, WINDOW_MS),
  }),
);
const keys = await clients[0]?.keys(`${prefix}:*`);
if (keys && keys.length > 0) await clients[0]?.del(keys);
for (const client of clients) await client.close();
