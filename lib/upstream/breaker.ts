import { UpstreamError, type Platform } from '../errors.js';
import type { Logger } from '../logger.js';
import { Counter } from '../metrics.js';
import type { UpstreamGuard } from './client.js';

export const breakerMetrics = {
  opened: new Counter('upstream_breaker_opened_total', 'Times a platform circuit breaker opened.', [
    'platform',
  ]),
  rejected: new Counter(
    'upstream_breaker_rejected_total',
    'Calls refused at once because the breaker was open.',
    ['platform'],
  ),
  probes: new Counter(
    'upstream_breaker_probes_total',
    'Background checks of a platform whose breaker is open, by outcome.',
    ['platform', 'outcome'],
  ),
};

export interface CircuitBreakerOptions {
  platform: Platform;
  /**
   * A cheap read that resolves when the platform answers and throws when it does not. The breaker
   * runs it in the background once it has been open for `openMs`; user requests are never used
   * to find out whether the platform is back.
   */
  probe: () => Promise<void>;
  /** Consecutive failures (5xx, timeouts, unreachable) that open the breaker. @default 5 */
  failureThreshold?: number;
  /** How long the breaker stays open before the background probe runs. @default 10000 */
  openMs?: number;
  logger?: Logger;
}

/** What a deployment (or a test) may tune about a connector's breaker. */
export type BreakerSettings = Partial<Pick<CircuitBreakerOptions, 'failureThreshold' | 'openMs'>>;

/**
 * One breaker per platform account (home-made; a later change swaps it for opossum). After
 * sustained failure it opens and answers at once with UPSTREAM_UNAVAILABLE naming the platform (so
 * a dead platform does not hold every request for its timeout). After `openMs` it half-opens: its
 * own probe call, not a user's request, decides; while the probe runs, requests are still refused
 * at once. A probe that succeeds closes the breaker; one that fails opens it for another `openMs`.
 */
export class CircuitBreaker implements UpstreamGuard {
  private state: 'closed' | 'open' | 'half-open' = 'closed';
  private failures = 0;
  private openUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: CircuitBreakerOptions) {}

  get status(): 'closed' | 'open' | 'half-open' {
    return this.state;
  }

  check(): void {
    if (this.state === 'closed') return;
    breakerMetrics.rejected.inc({ platform: this.options.platform });
    const seconds = Math.max(0, Math.ceil((this.openUntil - Date.now()) / 1000));
    const next =
      this.state === 'half-open'
        ? 'a check of whether it is back is under way'
        : `the next check is in about ${seconds} s`;
    throw new UpstreamError(
      `${this.options.platform} is unavailable: its circuit breaker is open after repeated failures; ${next}`,
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  recordFailure(): void {
    this.failures += 1;
    if (this.state === 'closed' && this.failures >= (this.options.failureThreshold ?? 5)) {
      breakerMetrics.opened.inc({ platform: this.options.platform });
      this.options.logger?.warn(
        { platform: this.options.platform, failures: this.failures },
        'circuit breaker opened',
      );
      this.open();
    }
  }

  /** Stops the probe timer (the connector is closing). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private open(): void {
    this.state = 'open';
    const openMs = this.options.openMs ?? 10_000;
    this.openUntil = Date.now() + openMs;
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.probe(), openMs);
    // A breaker waiting to probe must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    this.timer = undefined;
    if (this.closed || this.state !== 'open') return;
    this.state = 'half-open';
    try {
      await this.options.probe();
      breakerMetrics.probes.inc({ platform: this.options.platform, outcome: 'ok' });
      if (this.state === 'half-open') this.recordSuccess();
    } catch (error) {
      breakerMetrics.probes.inc({ platform: this.options.platform, outcome: 'failed' });
      this.options.logger?.warn(
        {
          platform: this.options.platform,
          code: error instanceof UpstreamError ? error.details.code : 'unknown',
        },
        'circuit breaker probe failed; staying open',
      );
      if (this.state === 'half-open') this.open();
    }
  }
}
