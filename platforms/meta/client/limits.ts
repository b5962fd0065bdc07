import type { ResponseHeaders, UpstreamCall, UpstreamThrottle } from '../../../lib/upstream/client.js';
import { QueuedThrottle, SlidingWindowPolicy } from '../../../lib/upstream/throttle.js';
import type { ThrottlingError } from './protocol.js';
import { readInsightsUsage } from './usage.js';

/** Meta's published limits for one ad account, as far as the connector spends them. */
export interface MetaLimits {
  /**
   * Ads Insights calls per rolling hour for the ad account (the `ads_insights` business-use-case
   * budget; it grows with the account's access tier and active ads). @default 600
   */
  insightsPerHour: number;
}

export const META_DEFAULT_LIMITS: MetaLimits = { insightsPerHour: 600 };

const HOUR_MS = 3_600_000;
/** The one endpoint that spends the insights budget (campaign and account reads do not). */
export const INSIGHTS_ENDPOINT = 'GET /act_{adAccountId}/insights';
/** Ads management's own budget: a refusal under it says nothing about insights. */
const ADS_MANAGEMENT_CODE = 80004;
const INSIGHTS_SUBCODE = 2446079;

/**
 * The hourly insights window, corrected by what Meta says is spent: usage is a percentage of the
 * account's budget, so another process or app reading the same account shows up as a share, which
 * is marked used here in proportion (the window never believes less than Meta reports).
 */
export class InsightsBudgetPolicy extends SlidingWindowPolicy {
  constructor(
    max: number,
    private readonly adAccountId: string,
  ) {
    super(max, HOUR_MS, `${max} Ads Insights calls per hour`);
  }

  observe(headers: ResponseHeaders, _status: number, now: number): void {
    const usage = readInsightsUsage(headers, this.adAccountId);
    if (usage) this.markUsed(Math.ceil((Math.min(100, usage.percent) / 100) * this.max), now);
  }
}

/**
 * Client-side flow control for one Meta ad account: insights calls queue behind the hourly budget
 * and fail fast with UPSTREAM_RATE_LIMITED (`CLIENT_THROTTLE`) when the wait would pass the
 * request's deadline; other calls go straight through. When Meta says when access comes back
 * (`estimated_time_to_regain_access`), every insights call is held until then.
 */
export class MetaInsightsThrottle implements UpstreamThrottle {
  readonly policy: InsightsBudgetPolicy;
  private readonly queue: QueuedThrottle;

  constructor(
    limits: MetaLimits,
    private readonly adAccountId: string,
  ) {
    if (!Number.isInteger(limits.insightsPerHour) || limits.insightsPerHour < 1)
      throw new RangeError(
        `insightsPerHour must be a positive integer, got ${String(limits.insightsPerHour)}`,
      );
    this.policy = new InsightsBudgetPolicy(limits.insightsPerHour, adAccountId);
    this.queue = new QueuedThrottle({ platform: 'meta', policy: this.policy });
  }

  private static spendsInsights(call: UpstreamCall): boolean {
    return call.endpoint === INSIGHTS_ENDPOINT;
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    return MetaInsightsThrottle.spendsInsights(call) ? this.queue.acquire(call, deadline) : Promise.resolve();
  }

  release(call: UpstreamCall, outcome: { status: number; headers: ResponseHeaders } | undefined): void {
    // Meta reports insights usage on other answers too, so every answer corrects the window.
    if (MetaInsightsThrottle.spendsInsights(call)) this.queue.release(call, outcome);
    else if (outcome) this.policy.observe(outcome.headers, outcome.status, Date.now());
    if (!outcome) return;
    const regainMs = readInsightsUsage(outcome.headers, this.adAccountId)?.regainAccessMs ?? 0;
    if (regainMs > 0) this.queue.blockUntil(Date.now() + regainMs);
  }

  /**
   * Meta refused a call with a throttling error. With usage headers, those already said how much is
   * spent and when access returns; without them the error is all there is, so the budget is taken
   * as spent for the rest of the window rather than retried into more refusals.
   */
  throttled(error: ThrottlingError, headers: ResponseHeaders): void {
    if (error.code === ADS_MANAGEMENT_CODE && error.subcode !== INSIGHTS_SUBCODE) return;
    if (readInsightsUsage(headers, this.adAccountId) === undefined)
      this.policy.markUsed(this.policy.max, Date.now());
  }
}
