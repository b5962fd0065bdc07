import Opossum from 'opossum';
import { UpstreamError, type Platform } from '../errors.js';
import { quietLogger, type Logger } from '../logger.js';
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

/** What a connector's settings say about its guard: a replacement, or how to tune the default. */
export interface GuardSettings {
  /** Replaces the default circuit breaker (tests inject their own). */
  guard?: UpstreamGuard;
  /** Tunes the default circuit breaker. @default 5 consecutive failures, open 10 s */
  breaker?: BreakerSettings;
  /** Where the breaker reports opening, closing and failed probes. @default no logging */
  logger?: Logger;
}

/**
 * The guard in front of a connector's platform, wired the same way for every connector: the one
 * its settings give, or a CircuitBreaker tuned by them. `probe` is the connector's cheapest read
 * (given the connector's logger, quiet without one); it runs only while the breaker is open.
 */
export function connectorGuard(
  platform: Platform,
  settings: GuardSettings,
  probe: (logger: Logger) => Promise<void>,
): UpstreamGuard {
  if (settings.guard) return settings.guard;
  const { logger } = settings;
  return new CircuitBreaker({
    platform,
    ...settings.breaker,
    ...(logger ? { logger } : {}),
    probe: () => probe(logger ?? quietLogger),
  });
}

/**
 * Whether a failed call says anything about the platform being down. The request's own deadline
 * running out proves nothing about the platform, and a 4xx proves it is up and answering.
 */
export function countsAgainstPlatform(error: UpstreamError): boolean {
  if (error.details.upstreamCode === 'REQUEST_DEADLINE') return false;
  const status = error.details.status;
  return !(status !== undefined && status >= 400 && status < 500);
}

/**
 * One breaker per platform account, on opossum's state machine (closed, open, half-open, with its
 * events and reset timer). After sustained failure it opens and answers at once with
 * UPSTREAM_UNAVAILABLE naming the platform (so a dead platform does not hold every request for its
 * timeout). After `openMs` opossum half-opens it; the breaker then runs its own probe, never a
 * user's request: user calls only ever pass `check()`, which refuses in any state but closed (so
 * opossum's "let the next call through" in half-open never applies to them). A probe that
 * succeeds closes the breaker; one that fails opens it for another `openMs`.
 *
 * Two things stay outside opossum on purpose: it opens on an error percentage over a rolling
 * window, whereas this breaker opens on consecutive failures (a success in between proves the
 * platform answers); and calls are recorded by the upstream client (`recordSuccess`,
 * `recordFailure`) rather than run through `fire`, because the client decides per response what
 * counts (a 429 or 4xx is the platform answering, the request's deadline is not its fault).
 */
export class CircuitBreaker implements UpstreamGuard {
  private readonly circuit: Opossum<[], void>;
  private readonly openMs: number;
  private failures = 0;
  private openUntil = 0;
  /** Set while a failed probe re-opens the breaker: that is not a new opening. */
  private reopening = false;
  private shutDown = false;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.openMs = options.openMs ?? 10_000;
    const { platform, logger } = options;
    // The action is never fired: opossum keeps the state and its timer, the client records calls.
    this.circuit = new Opossum(() => Promise.resolve(), {
      name: `${platform}-breaker`,
      resetTimeout: this.openMs,
      // Never open by percentage (an error rate cannot exceed 100 %); `recordFailure` decides.
      errorThresholdPercentage: 100,
      timeout: false,
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
    });
    this.circuit.on('open', () => {
      this.openUntil = Date.now() + this.openMs;
      if (this.reopening) return;
      breakerMetrics.opened.inc({ platform });
      logger?.warn({ platform, failures: this.failures }, 'circuit breaker opened');
    });
    this.circuit.on('halfOpen', () => void this.probe());
    this.circuit.on('close', () => {
      this.failures = 0;
      logger?.info({ platform }, 'circuit breaker closed');
    });
  }

  get status(): 'closed' | 'open' | 'half-open' {
    if (this.circuit.halfOpen) return 'half-open';
    return this.circuit.opened ? 'open' : 'closed';
  }

  /** Open or half-open both refuse user calls. */
  state(): 'open' | 'closed' {
    return this.status === 'closed' ? 'closed' : 'open';
  }

  check(): void {
    const status = this.status;
    if (status === 'closed') return;
    breakerMetrics.rejected.inc({ platform: this.options.platform });
    const seconds = Math.max(0, Math.ceil((this.openUntil - Date.now()) / 1000));
    const next =
      status === 'half-open'
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

  /** A call that started before the breaker opened and succeeded proves the platform is back. */
  recordSuccess(): void {
    this.failures = 0;
    if (!this.shutDown) this.circuit.close();
  }

  recordFailure(error?: UpstreamError): void {
    if (error && !countsAgainstPlatform(error)) return;
    this.failures += 1;
    if (this.shutDown || !this.circuit.closed) return;
    if (this.failures >= (this.options.failureThreshold ?? 5)) this.circuit.open();
  }

  /** Stops opossum's timers (the connector is closing); no probe runs after this. */
  close(): void {
    if (this.shutDown) return;
    this.shutDown = true;
    this.circuit.shutdown();
  }

  private async probe(): Promise<void> {
    if (this.shutDown) return;
    const { platform, logger } = this.options;
    try {
      await this.options.probe();
      breakerMetrics.probes.inc({ platform, outcome: 'ok' });
      if (!this.shutDown && this.circuit.halfOpen) this.circuit.close();
    } catch (error) {
      breakerMetrics.probes.inc({ platform, outcome: 'failed' });
      logger?.warn(
        { platform, code: error instanceof UpstreamError ? error.details.code : 'unknown' },
        'circuit breaker probe failed; staying open',
      );
      if (this.shutDown || !this.circuit.halfOpen) return;
      // Opossum restarts its reset timer on every opening: the next probe is `openMs` away.
      this.reopening = true;
      try {
        this.circuit.open();
      } finally {
        this.reopening = false;
      }
    }
  }
}
