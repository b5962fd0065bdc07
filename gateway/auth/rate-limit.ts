import { Counter } from '../../lib/metrics.js';
import type { Logger } from '../../lib/logger.js';
import type { RedisConnection } from '../../lib/cache/store.js';

/** A client's allowance: a bucket of `burst` requests refilled at `requestsPerMinute`. */
export interface RateLimit {
  requestsPerMinute: number;
  burst: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds until one more request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

export const rateLimitMetrics = {
  limited: new Counter('client_rate_limited_total', 'Requests refused with 429 by client.', ['client']),
};

/** Per-client token buckets. One implementation per process, one shared through Redis. */
export interface RateLimiter {
  take(clientId: string, limit: RateLimit): Promise<RateDecision>;
}

function decide(tokens: number, limit: RateLimit): RateDecision {
  if (tokens >= 1) return { allowed: true, retryAfterSeconds: 0 };
  return {
    allowed: false,
    retryAfterSeconds: Math.max(1, Math.ceil(((1 - tokens) * 60) / limit.requestsPerMinute)),
  };
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  async take(clientId: string, limit: RateLimit): Promise<RateDecision> {
    const now = Date.now();
    const bucket = this.buckets.get(clientId) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(
      limit.burst,
      bucket.tokens + ((now - bucket.at) / 60_000) * limit.requestsPerMinute,
    );
    bucket.at = now;
    const decision = decide(bucket.tokens, limit);
    if (decision.allowed) bucket.tokens -= 1;
    this.buckets.set(clientId, bucket);
    return decision;
  }
}

/**
 * The same bucket kept in Redis and updated atomically by a script, with Redis's clock, so every
 * gateway instance spends from one allowance per client.
 */
const TAKE = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 60000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or ms
tokens = math.min(burst, tokens + (ms - at) * perMs)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(ms))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / perMs) + 1000)
return { allowed, tostring(tokens) }
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly fallback = new MemoryRateLimiter();
  private lastWarning = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async take(clientId: string, limit: RateLimit): Promise<RateDecision> {
    try {
      const reply = (await this.redis.eval(TAKE, {
        keys: [`${this.prefix}:rl:${clientId}`],
        arguments: [String(limit.burst), String(limit.requestsPerMinute)],
      })) as [number, string];
      const [allowed, tokens] = reply;
      return allowed === 1 ? { allowed: true, retryAfterSeconds: 0 } : decide(Number(tokens), limit);
    } catch (error) {
      // Redis down: limit per process rather than not at all, and say so.
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { err: { message: (error as Error).message } },
          'shared rate limits unavailable; limiting per gateway instance',
        );
      }
      return this.fallback.take(clientId, limit);
    }
  }
}
