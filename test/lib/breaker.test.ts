import { describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../lib/errors.js';
import { CircuitBreaker } from '../../lib/upstream/breaker.js';

describe('circuit breaker', () => {
  it('should open after the threshold, refuse at once naming the platform, then half-open for one probe', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const breaker = new CircuitBreaker({ platform: 'mailchimp', failureThreshold: 3, openMs: 5_000 });
      for (let i = 0; i < 2; i++) breaker.recordFailure();
      expect(() => breaker.check()).not.toThrow();
      breaker.recordFailure();
      const refused = (() => {
        try {
          breaker.check();
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      expect(refused).toBeInstanceOf(UpstreamError);
      expect((refused as UpstreamError).extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        platform: 'mailchimp',
        upstreamCode: 'CIRCUIT_OPEN',
      });
      vi.advanceTimersByTime(5_000);
      expect(breaker.status).toBe('half-open');
      expect(() => breaker.check()).not.toThrow();
      expect(() => breaker.check()).toThrow(UpstreamError);
      breaker.recordSuccess();
      expect(breaker.status).toBe('closed');
      expect(() => breaker.check()).not.toThrow();
    } finally {
      vi.useRealTimers();
    }
  });

  it('should reopen when the probe fails', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const breaker = new CircuitBreaker({ platform: 'meta', failureThreshold: 1, openMs: 1_000 });
      breaker.recordFailure();
      vi.advanceTimersByTime(1_000);
      breaker.check();
      breaker.recordFailure();
      expect(breaker.status).toBe('open');
    } finally {
      vi.useRealTimers();
    }
  });

  it('should reset the count on success', () => {
    const breaker = new CircuitBreaker({ platform: 'hubspot', failureThreshold: 2 });
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.status).toBe('closed');
  });
});
