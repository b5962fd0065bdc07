import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/shared-client.js';

/**
 * A rolling window of calls in Redis, to the millisecond: a sorted set of the grants' times. One
 * script drops the grants older than the window, counts the rest and, when there is room, adds
 * this one, atomically, so processes taking from one key never pass `limit` in any rolling window.
 * The time is Redis's own (TIME), so processes whose clocks disagree still agree on the window.
 *
 * Why not rate-limiter-flexible, which this replaced: its windows are fixed and last whole seconds
 * (its Redis store sets expiries with EX), so a rolling plan had to be split into sub-windows that
 * could never add up past it. Measured with `npm run bench:shared-budget` (two throttles on their
 * own Redis connections, saturating for 30 s): 100 per 10 s used 80% of the plan (240 of 300
 * calls), 20 per 2 s 50%, 5 per 1 s 20%. With this window: 100% of all three in 30 s, and in the
 * long run windowMs / (windowMs + margin) of the plan (97.5% of HubSpot's ten seconds), the margin
 * being the time between a grant and the platform counting the call.
 */
const TAKE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local span = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], span)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + span - now)
`;

/**
 * Takes one grant from the window at `key` when fewer than `limit` were granted in the last
 * `spanMs`: answers 0, or else how many milliseconds until one may be. Throws what Redis threw.
 */
export async function takeFromWindow(
  client: RedisClient,
  key: string,
  spanMs: number,
  limit: number,
): Promise<number> {
  const answer = await client.eval(TAKE, {
    keys: [key],
    arguments: [String(Math.ceil(spanMs)), String(limit), randomUUID()],
  });
  return Number(answer);
}
