import { describe, expect, it } from 'vitest';
import { deliveriesConfigSchema, SVIX_RETRY_SCHEDULE_MS } from '../../deliveries/config.js';
import { retryAfterMs, verdictFor } from '../../deliveries/retry-policy.js';
import { scrubSecrets } from '../../deliveries/scrub.js';

const config = deliveriesConfigSchema.parse({});
const NOW = Date.parse('2026-11-28T10:00:00Z');
const failed = (statusCode: number | null, retryAfter: string | null = null) => ({
  errorClass: statusCode === null ? ('connection' as const) : ('status' as const),
  statusCode,
  retryAfter,
});

describe('retry policy', () => {
  it("should default to Svix's schedule, 15 s attempts and 5 days before disabling", () => {
    expect(config.retryScheduleMs).toEqual([
      0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(config.retryScheduleMs).toEqual(SVIX_RETRY_SCHEDULE_MS);
    expect(config.attemptTimeoutMs).toBe(15_000);
    expect(config.disableAfterFailingMs).toBe(5 * 86_400_000);
    expect(config.secretOverlapMs).toBe(86_400_000);
  });

  it('should refuse a schedule that is not a list of delays, naming the field', () => {
    const result = deliveriesConfigSchema.safeParse({ retryScheduleMs: [0, -5] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['retryScheduleMs', 1]);
    expect(deliveriesConfigSchema.safeParse({ allow: ['not a host!'] }).success).toBe(false);
    expect(deliveriesConfigSchema.safeParse({ secretSealingKey: 'c2hvcnQ=' }).success).toBe(false);
  });

  it('should walk the schedule after each failure and exhaust after the last attempt', () => {
    const waits = SVIX_RETRY_SCHEDULE_MS.slice(1).map((_, i) => {
      const verdict = verdictFor(failed(500), i + 1, config, NOW);
      return verdict.status === 'pending' ? verdict.nextAttemptMs - NOW : verdict.status;
    });
    expect(waits).toEqual(SVIX_RETRY_SCHEDULE_MS.slice(1));
    expect(verdictFor(failed(500), 8, config, NOW)).toEqual({ status: 'exhausted' });
    expect(verdictFor(failed(null), 8, config, NOW)).toEqual({ status: 'exhausted' });
  });

  it('should succeed on a 2xx only, and end on 410 Gone', () => {
    expect(verdictFor({ errorClass: null, statusCode: 204, retryAfter: null }, 1, config, NOW)).toEqual({
      status: 'succeeded',
    });
    expect(verdictFor(failed(302), 1, config, NOW)).toEqual({
      status: 'pending',
      nextAttemptMs: NOW + 5_000,
    });
    expect(verdictFor(failed(410), 1, config, NOW)).toEqual({ status: 'failed', reason: 'gone' });
  });

  it('should wait as long as Retry-After asks when longer than the schedule, capped, never shorter', () => {
    expect(verdictFor(failed(429, '120'), 1, config, NOW)).toEqual({
      status: 'pending',
      nextAttemptMs: NOW + 120_000,
    });
    expect(verdictFor(failed(503, '1'), 1, config, NOW)).toEqual({
      status: 'pending',
      nextAttemptMs: NOW + 5_000,
    });
    expect(verdictFor(failed(429, '999999'), 1, config, NOW)).toEqual({
      status: 'pending',
      nextAttemptMs: NOW + config.retryAfterMaxMs,
    });
  });

  it('should read Retry-After as delay-seconds or an HTTP date, and ignore anything else', () => {
    expect(retryAfterMs('30', NOW)).toBe(30_000);
    expect(retryAfterMs('Sat, 28 Nov 2026 10:10:00 GMT', NOW)).toBe(600_000);
    expect(retryAfterMs('Sat, 28 Nov 2026 09:00:00 GMT', NOW)).toBe(0);
    expect(retryAfterMs('soon', NOW)).toBeUndefined();
    expect(retryAfterMs('-5', NOW)).toBeUndefined();
    expect(retryAfterMs(null, NOW)).toBeUndefined();
  });
});

describe('response body scrubbing', () => {
  it('should remove whsec_ secrets, bearer tokens, API keys, JWTs and the endpoint’s own key', () => {
    const key = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const text = [
      'echo whsec_abcDEF123+/= here',
      'Authorization: Bearer abc.def-ghi',
      'key mgk_30kttkken7c0_hd9W4lxsM',
      'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig',
      `raw ${key.slice(6)}`,
    ].join('\n');
    const scrubbed = scrubSecrets(text, [key]);
    expect(scrubbed).toBe(
      [
        'echo whsec_[redacted] here',
        'Authorization: Bearer [redacted]',
        'key mgk_[redacted]',
        'jwt [redacted token]',
        'raw [redacted]',
      ].join('\n'),
    );
  });
});
