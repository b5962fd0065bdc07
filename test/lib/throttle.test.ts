import { afterEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../lib/errors.js';
import type { UpstreamCall } from '../../lib/upstream/client.js';
import {
  ConcurrencyPolicy,
  LeakyBucketPolicy,
  QueuedThrottle,
  SlidingWindowPolicy,
} from '../../lib/upstream/throttle.js';

const call: UpstreamCall = { method: 'GET', endpoint: 'GET /thing', path: '/thing' };
const write: UpstreamCall = {
  method: 'POST',
  endpoint: 'POST /things',
  path: '/things',
  priority: 'background',
};

describe('throttles', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should let a window of calls through, then queue the rest in order until slots free', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const throttle = new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(3, 1_000) });
    const started: number[] = [];
    const deadline = Date.now() + 10_000;
    const calls = Array.from({ length: 7 }, (_, i) =>
      throttle.acquire(call, deadline).then(() => started.push(i)),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(started).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('should fail fast with UPSTREAM_RATE_LIMITED when the wait would pass the deadline', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const throttle = new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(2, 10_000) });
    await throttle.acquire(call, Date.now() + 5_000);
    await throttle.acquire(call, Date.now() + 5_000);
    const error = await throttle.acquire(call, Date.now() + 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      platform: 'hubspot',
      upstreamCode: 'CLIENT_THROTTLE',
    });
    expect((error as UpstreamError).retryable).toBe(false);
    expect((error as UpstreamError).message).toMatch(
      /about 10000 ms, past the request deadline \(limit: 2 requests per 10 s\)/,
    );
  });

  it('should bound the queue', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const throttle = new QueuedThrottle({
      platform: 'shopify',
      policy: new SlidingWindowPolicy(1, 1_000),
      maxQueue: 2,
    });
    const deadline = Date.now() + 60_000;
    await throttle.acquire(call, deadline);
    const waiting = [throttle.acquire(call, deadline), throttle.acquire(call, deadline)];
    const error = await throttle.acquire(call, deadline).catch((e: unknown) => e);
    expect((error as UpstreamError).message).toMatch(/2 calls are already waiting/);
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(waiting);
  });

  it('should follow a leaky bucket and the level the platform reports', () => {
    const bucket = new LeakyBucketPolicy(4, 2);
    const now = 5_000;
    for (let i = 0; i < 4; i++) {
      expect(bucket.delayMs(now)).toBe(0);
      bucket.take(now);
    }
    expect(bucket.delayMs(now)).toBe(500);
    expect(bucket.delayMs(now + 500)).toBe(0);
    const other = new LeakyBucketPolicy(40, 2);
    other.markLevel(40, now);
    expect(other.delayMs(now)).toBe(500);
  });

  it('should catch up with usage the platform reports and adopt a lower limit', () => {
    const window = new SlidingWindowPolicy(100, 10_000);
    window.markUsed(100, 1_000);
    expect(window.delayMs(1_000)).toBe(10_000);
    const lower = new SlidingWindowPolicy(100, 10_000);
    lower.lowerMax(50);
    lower.markUsed(50, 1_000);
    expect(lower.max).toBe(50);
    expect(lower.delayMs(1_000)).toBe(10_000);
  });

  it('should hold calls beyond the concurrency cap until one finishes', async () => {
    const policy = new ConcurrencyPolicy(2);
    const throttle = new QueuedThrottle({ platform: 'mailchimp', policy });
    const deadline = Date.now() + 5_000;
    await throttle.acquire(call, deadline);
    await throttle.acquire(call, deadline);
    let third = false;
    const pending = throttle.acquire(call, deadline).then(() => {
      third = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    throttle.release(call, { status: 200, headers: {} });
    await pending;
    expect(third).toBe(true);
  });

  it('should leave a tenth of a window to interactive calls, and start them ahead of waiting background ones', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const throttle = new QueuedThrottle({ platform: 'hubspot', policy: new SlidingWindowPolicy(10, 1_000) });
    const started: string[] = [];
    const deadline = Date.now() + 10_000;
    const writes = Array.from({ length: 12 }, (_, i) =>
      throttle.acquire(write, deadline).then(() => started.push(`w${i}`)),
    );
    await vi.advanceTimersByTimeAsync(0);
    // Nine of ten slots: the tenth stays free for a user's query.
    expect(started).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    await throttle.acquire(call, deadline).then(() => started.push('read'));
    expect(started.at(-1)).toBe('read');
    // Now the window is full: a read queued after the writes still goes first when it frees.
    const lateRead = throttle.acquire(call, deadline).then(() => started.push('late read'));
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all([...writes, lateRead]);
    expect(started.slice(10)).toEqual(['late read', 'w9', 'w10', 'w11']);
  });

  it('should give background calls the whole limit when it has a single slot', async () => {
    const throttle = new QueuedThrottle({ platform: 'mailchimp', policy: new ConcurrencyPolicy(1) });
    await throttle.acquire(write, Date.now() + 1_000);
    throttle.release(write, { status: 200, headers: {} });
    await throttle.acquire(write, Date.now() + 1_000);
  });

  it('should hold every call after a 429 with Retry-After', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const throttle = new QueuedThrottle({ platform: 'shopify', policy: new LeakyBucketPolicy(40, 2) });
    await throttle.acquire(call, Date.now() + 10_000);
    throttle.release(call, { status: 429, headers: { 'retry-after': '2.0' } });
    let started = false;
    const next = throttle.acquire(call, Date.now() + 10_000).then(() => {
      started = true;
    });
    await vi.advanceTimersByTimeAsync(1_900);
    expect(started).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await next;
    expect(started).toBe(true);
  });
});
