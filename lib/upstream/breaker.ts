import { UpstreamError, type Platform } from '../errors.js';
import type { Logger } from '../logger.js';
import { Counter } from '../metrics.js';
import type { UpstreamGuard } from './client.js';

export const breakerMetrics = {
  opened: new Counter('upstream_breaker_opened_total', 'Times a platform circuit breaker opened.'),
  rejected: new Counter(
    'upstream_breaker_rejected_total',
    'Calls refused at once because the breaker was open.',
  ),
};

export interface CircuitBreakerOptions {
  platform: Platform;
  /** Consecutive failures (5xx, timeouts, unreachable) that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long the breaker stays open before one probe call is let through. @default 10000 */
  openMs?: number;
  logger?: Logger;
}

/**
 * One breaker per platform account. After sustained failure it opens and answers at once with
 * UPSTREAM_UNAVAILABLE naming the platform (so a dead platform does not hold every request for its
 * timeout); after `openMs` it half-opens and lets a single probe through; a success closes it.
 */
export class CircuitBreaker implements UpstreamGuard {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get status(): 'closed' | 'open' | 'half-open' {
    if (this.state === 'open' && Date.now() >= this.openUntil) return 'half-open';
    return this.state;
  }

  check(): void {
    if (this.state === 'closed') return;
    const now = Date.now();
    if (this.state === 'open' && now >= this.openUntil) {
      this.state = 'half-open';
      this.probing = false;
    }
    if (this.state === 'half-open' && !this.probing) {
      this.probing = true;
      return;
    }
    breakerMetrics.rejected.inc({ platform: this.options.platform });
    const seconds = Math.max(0, Math.ceil((this.openUntil - now) / 1000));
    throw new UpstreamError(
      `${this.options.platform} is unavailable: its circuit breaker is open after repeated failures; the next attempt is in about ${seconds} s`,
      {
        platform: this.options.platform,
        code: 'UPSTREAM_UNAVAILABLE',
        upstreamCode: 'CIRCUIT_OPEN',
        retryable: false,
        retryAfterSeconds: seconds,
      },
    );
  }

  recordSuccess(): void {
    if (this.state !== 'closed')
      this.options.logger?.info({ platform: this.options.platform }, 'circuit breaker closed');
    this.state = 'closed';
    this.failures = 0;
    this.probing = false;
  }

  recordFailure(): void {
    this.failures += 1;
    if (this.state === 'half-open' || this.failures >= (this.options.failureThreshold ?? 5)) {
      if (this.state !== 'open') {
        breakerMetrics.opened.inc({ platform: this.options.platform });
        this.options.logger?.warn(
          { platform: this.options.platform, failures: this.failures },
          'circuit breaker opened',
        );
      }
      this.state = 'open';
      this.openUntil = Date.now() + (this.options.openMs ?? 10_000);
      this.probing = false;
    }
  }
}
