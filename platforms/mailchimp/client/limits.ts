import type { ShareLimit } from '../../../lib/upstream/account-throttles.js';
import type { ResponseHeaders, UpstreamCall, UpstreamThrottle } from '../../../lib/upstream/client.js';
import { ConcurrencyPolicy, QueuedThrottle } from '../../../lib/upstream/throttle.js';

/** Mailchimp's published limit for one user (API key): simultaneous connections, nothing per second. */
export interface MailchimpLimits {
  /** Calls in flight at once; Mailchimp answers 429 beyond its cap. @default 10 */
  maxConnections: number;
  /** How long every new call waits after a 429, since Mailchimp sends no Retry-After. @default 1000 */
  holdAfter429Ms: number;
  /** A lowered connection cap rises by one after this long without a 429. @default 10000 */
  recoverAfterMs: number;
}

export const MAILCHIMP_DEFAULT_LIMITS: MailchimpLimits = {
  maxConnections: 10,
  holdAfter429Ms: 1_000,
  recoverAfterMs: 10_000,
};

/**
 * The connection cap, corrected by what Mailchimp says. Mailchimp sends no limit headers, so its
 * only signal is the 429 itself: the calls still in flight when one comes back are as many as it
 * let through, so the cap drops to that number (another process sharing the API key, or a smaller
 * cap than configured). It creeps back up one slot per quiet `recoverAfterMs`, so a neighbour that
 * stopped calling does not leave the connector slow for good.
 */
export class ObservedConcurrencyPolicy extends ConcurrencyPolicy {
  private running = 0;
  private cap: number;
  private changedAt = Date.now();

  constructor(
    max: number,
    private readonly recoverAfterMs: number,
  ) {
    super(max);
    this.cap = max;
  }

  /** The number of calls currently allowed in flight (at most `max`). */
  get currentCap(): number {
    return this.cap;
  }

  override delayMs(): number {
    return this.running < this.cap ? super.delayMs() : Infinity;
  }

  override available(): { free: number; of: number } {
    return { free: Math.max(0, this.cap - this.running), of: this.cap };
  }

  override estimateMs(now: number, position: number): number {
    // The slots the platform refused count as busy for the estimate.
    return super.estimateMs(now, position + this.max - this.cap);
  }

  override take(now: number): void {
    super.take(now);
    this.running += 1;
  }

  override finish(now: number): void {
    super.finish(now);
    this.running = Math.max(0, this.running - 1);
  }

  observe(_headers: ResponseHeaders, status: number, now: number): void {
    if (status === 429) {
      this.cap = Math.max(1, Math.min(this.cap, this.running));
      this.changedAt = now;
    } else if (this.cap < this.max && now - this.changedAt >= this.recoverAfterMs) {
      this.cap += 1;
      this.changedAt = now;
    }
  }
}

/** Holds every new call for a moment after a 429, the wait Mailchimp does not state itself. */
class MailchimpThrottle extends QueuedThrottle {
  constructor(
    policy: ObservedConcurrencyPolicy,
    private readonly holdAfter429Ms: number,
  ) {
    super({ platform: 'mailchimp', policy });
  }

  override release(
    call: UpstreamCall,
    outcome: { status: number; headers: ResponseHeaders } | undefined,
  ): void {
    // Block before the slot is freed, so no waiter slips out between the two.
    if (outcome?.status === 429) this.blockUntil(Date.now() + this.holdAfter429Ms);
    super.release(call, outcome);
  }
}

/**
 * `share` (account-throttles.ts) makes the connection cap one that every process holds together
 * (leased slots in Redis) when processes share budgets; by default each process has its own.
 */
export function mailchimpThrottle(
  limits: MailchimpLimits,
  share: ShareLimit = (local) => local,
): UpstreamThrottle {
  const local = new MailchimpThrottle(
    new ObservedConcurrencyPolicy(limits.maxConnections, limits.recoverAfterMs),
    limits.holdAfter429Ms,
  );
  return share(local, { name: 'connections', concurrent: limits.maxConnections });
}
