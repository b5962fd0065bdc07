import type { RecordCache } from '../cache/record-cache.js';
import type { GuardSettings } from './breaker.js';
import type { UpstreamThrottle } from './client.js';

/**
 * What every platform connector is given besides its platform's own settings (address,
 * credentials, plan limits): one shape for all of them, so a subgraph or a test wires any
 * connector the same way.
 */
export interface ConnectorSettings extends GuardSettings {
  /** Upper bound of one attempt; also capped by the request's deadline. */
  timeoutMs: number;
  /** Retries of idempotent calls after a 429, 5xx, timeout or connection failure. */
  maxRetries: number;
  /**
   * Read-through cache of the platform's records (found and known absent); without one every
   * read goes to the platform. @default RecordCache.off
   */
  cache?: RecordCache;
  /** Replaces the throttle built from the platform's limits (tests inject their own). */
  throttle?: UpstreamThrottle;
}
