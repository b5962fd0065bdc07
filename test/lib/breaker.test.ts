import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../../lib/errors.js';
import { quietLogger, type Logger } from '../../lib/logger.js';
import { CircuitBreaker, breakerMetrics, connectorGuard } from '../../lib/upstream/breaker.js';
import type { UpstreamGuard } from '../../lib/upstream/client.js';

/** A probe the test answers by hand, counting how often the breaker ran it. */
function manualProbe() {
  const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
  return {
    calls: () => pending.length,
    probe: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    succeed: () => pending.at(-1)?.resolve(),
    fail: () => pending.at(-1)?.reject(new Error('still down')),
  };
}

function refusal(breaker: CircuitBreaker): unknown {
  try {
    breaker.check();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('circuit breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should open after the threshold and refuse at once naming the platform', () => {
    const probe = manualProbe();
    const breaker = new CircuitBreaker({
      platform: 'mailchimp',
      failureThreshold: 3,
      openMs: 5_000,
      ...probe,
    });
    for (let i = 0; i < 2; i++) breaker.recordFailure();
    expect(() => breaker.check()).not.toThrow();
    breaker.recordFailure();
    expect(refusal(breaker)).toBeInstanceOf(UpstreamError);
    expect((refusal(breaker) as UpstreamError).extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      platform: 'mailchimp',
      upstreamCode: 'CIRCUIT_OPEN',
    });
    breaker.close();
  });

  it('should decide half-open with its own probe and keep refusing requests until the probe succeeds', async () => {
    const probe = manualProbe();
    const breaker = new CircuitBreaker({ platform: 'shopify', failureThreshold: 1, openMs: 5_000, ...probe });
    breaker.recordFailure();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(probe.calls()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(probe.calls()).toBe(1);
    expect(breaker.status).toBe('half-open');
    // Every request while the probe is out is refused: none of them is the probe.
    for (let i = 0; i < 3; i++) expect(refusal(breaker)).toBeInstanceOf(UpstreamError);
    expect((refusal(breaker) as UpstreamError).message).toMatch(/a check of whether it is back is under way/);
    probe.succeed();
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.status).toBe('closed');
    expect(() => breaker.check()).not.toThrow();
    breaker.close();
  });

  it('should open again for another period when the probe fails, then probe again', async () => {
    const probe = manualProbe();
    const breaker = new CircuitBreaker({ platform: 'meta', failureThreshold: 1, openMs: 1_000, ...probe });
    breaker.recordFailure();
    await vi.advanceTimersByTimeAsync(1_000);
    probe.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.status).toBe('open');
    expect(refusal(breaker)).toBeInstanceOf(UpstreamError);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(probe.calls()).toBe(2);
    breaker.close();
  });

  it('should not probe once closed by its connector', async () => {
    const probe = manualProbe();
    const breaker = new CircuitBreaker({ platform: 'meta', failureThreshold: 1, openMs: 1_000, ...probe });
    breaker.recordFailure();
    breaker.close();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(probe.calls()).toBe(0);
  });

  it('should not count deadline aborts or client errors towards opening', () => {
    const breaker = new CircuitBreaker({ platform: 'hubspot', failureThreshold: 1, ...manualProbe() });
    breaker.recordFailure(
      new UpstreamError('deadline', {
        platform: 'hubspot',
        code: 'UPSTREAM_TIMEOUT',
        upstreamCode: 'REQUEST_DEADLINE',
      }),
    );
    breaker.recordFailure(
      new UpstreamError('not found', { platform: 'hubspot', code: 'UPSTREAM_ERROR', status: 404 }),
    );
    expect(breaker.status).toBe('closed');
    breaker.recordFailure(
      new UpstreamError('bad gateway', { platform: 'hubspot', code: 'UPSTREAM_ERROR', status: 502 }),
    );
    expect(breaker.status).toBe('open');
    breaker.close();
  });

  it('should count an opening once, not again when a failed probe keeps it open', async () => {
    const probe = manualProbe();
    const breaker = new CircuitBreaker({ platform: 'shopify', failureThreshold: 1, openMs: 1_000, ...probe });
    const before = await breakerMetrics.opened.get({ platform: 'shopify' });
    breaker.recordFailure();
    await vi.advanceTimersByTimeAsync(1_000);
    probe.fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.status).toBe('open');
    expect((await breakerMetrics.opened.get({ platform: 'shopify' })) - before).toBe(1);
    breaker.close();
  });

  it('should reset the count on success', () => {
    const breaker = new CircuitBreaker({ platform: 'hubspot', failureThreshold: 2, ...manualProbe() });
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    expect(breaker.status).toBe('closed');
  });
});

describe("a connector's guard (connectorGuard, the one wiring every connector uses)", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('should use the guard the settings give instead of building a breaker', () => {
    const given: UpstreamGuard = {
      check: () => undefined,
      recordSuccess: () => undefined,
      recordFailure: () => undefined,
    };
    const guard = connectorGuard('meta', { guard: given, breaker: { failureThreshold: 1 } }, () =>
      Promise.reject(new Error('a given guard is not probed by this wiring')),
    );
    expect(guard).toBe(given);
  });

  it("should build a breaker tuned by the settings that probes with the connector's logger", async () => {
    const logged: Logger[] = [];
    const logger = quietLogger.child({ connector: 'test' });
    const guard = connectorGuard(
      'hubspot',
      { breaker: { failureThreshold: 2, openMs: 3_000 }, logger },
      async (probeLogger) => {
        logged.push(probeLogger);
      },
    );
    expect(guard).toBeInstanceOf(CircuitBreaker);
    const breaker = guard as CircuitBreaker;
    breaker.recordFailure();
    expect(breaker.status).toBe('closed');
    breaker.recordFailure();
    expect((refusal(breaker) as UpstreamError).extensions).toMatchObject({ platform: 'hubspot' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(logged).toEqual([logger]);
    expect(breaker.status).toBe('closed');
    breaker.close();
  });

  it('should probe with a quiet logger when the connector has none', async () => {
    const logged: Logger[] = [];
    const breaker = connectorGuard(
      'shopify',
      { breaker: { failureThreshold: 1, openMs: 1_000 } },
      async (l) => {
        logged.push(l);
      },
    ) as CircuitBreaker;
    breaker.recordFailure();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(logged).toEqual([quietLogger]);
    breaker.close();
  });
});
