import type { ShareLimit } from '../../../lib/upstream/account-throttles.js';
import type { ResponseHeaders, UpstreamCall, UpstreamThrottle } from '../../../lib/upstream/client.js';
import { ConcurrencyPolicy, QueuedThrottle } from '../../../lib/upstream/throttle.js';

/**
 * Twilio limits an account's REST API by concurrent requests (not by requests per second), at a
 * level it sets per account and does not publish; beyond it, `429` with code 20429, which Twilio
 * documents as never processed and always safe to retry. Sending speed is limited separately, per
 * sender, by Twilio's message queue (see the sandbox): that shows as message statuses, not here.
 */
export interface TwilioLimits {
  /** Requests in flight at once. @default 10 */
  maxConcurrent: number;
  /** How long every new call waits after a 429 when Twilio sends no Retry-After. @default 1000 */
  holdAfter429Ms: number;
}

export const TWILIO_DEFAULT_LIMITS: TwilioLimits = { maxConcurrent: 10, holdAfter429Ms: 1_000 };

/** A concurrency cap that also holds new calls for a moment after a 429. */
class TwilioThrottle extends QueuedThrottle {
  constructor(private readonly limits: TwilioLimits) {
    super({ platform: 'twilio', policy: new ConcurrencyPolicy(limits.maxConcurrent) });
  }

  override release(
    call: UpstreamCall,
    outcome: { status: number; headers: ResponseHeaders } | undefined,
  ): void {
    // Block before the slot is freed, so no waiter slips out between the two.
    if (outcome?.status === 429) this.blockUntil(Date.now() + this.limits.holdAfter429Ms);
    super.release(call, outcome);
  }
}

/**
 * `share` (account-throttles.ts) makes the cap one that every process holds together (leased
 * slots in Redis) when processes share budgets; by default each process has its own.
 */
export function twilioThrottle(limits: TwilioLimits, share: ShareLimit = (local) => local): UpstreamThrottle {
  return share(new TwilioThrottle(limits), { name: 'concurrent', concurrent: limits.maxConcurrent });
}
