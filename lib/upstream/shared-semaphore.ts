import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/shared-client.js';

/**
 * A cap on calls in flight (Mailchimp's connections, Twilio's concurrent requests) held in Redis
 * for every process: a sorted set of slots, each scored by when its lease ends. Taking a slot drops
 * the expired ones first, so a process killed while holding slots gives them back once their lease
 * ends; a live holder renews its lease while its call runs. Redis's clock (TIME) scores the leases,
 * so processes whose clocks disagree still agree on who holds what.
 */
const TAKE = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], lease)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(first[2]) - now)
`;

/** Extends a slot's lease, if the slot is still held (XX: a lapsed lease is not revived). */
const RENEW = `
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local lease = tonumber(ARGV[1])
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + lease, ARGV[2])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return renewed
`;

export interface HeldSlot {
  /** Gives the slot back (and stops renewing its lease). Idempotent; never throws. */
  release(): Promise<void>;
}

/**
 * Takes one of `limit` slots at `key` for `leaseMs`, renewed every third of it while held: answers
 * the slot, or how many milliseconds until the first lease ends (a slot may free sooner, when its
 * holder releases it). Throws what Redis threw.
 */
export async function takeSlot(
  client: RedisClient,
  key: string,
  limit: number,
  leaseMs: number,
): Promise<HeldSlot | number> {
  const id = randomUUID();
  const lease = String(Math.ceil(leaseMs));
  const answer = Number(await client.eval(TAKE, { keys: [key], arguments: [lease, String(limit), id] }));
  if (answer > 0) return answer;
  const renewal = setInterval(
    () => {
      client.eval(RENEW, { keys: [key], arguments: [lease, id] }).catch(() => undefined);
    },
    Math.max(10, Math.floor(leaseMs / 3)),
  );
  renewal.unref?.();
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(renewal);
      // Redis unreachable: the lease ends on its own.
      await client.zRem(key, id).catch(() => undefined);
    },
  };
}
