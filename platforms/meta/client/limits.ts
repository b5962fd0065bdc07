import type {
  ResponseHeaders,
  ThrottleOutcome,
  UpstreamCall,
  UpstreamThrottle,
} from '../../../lib/upstream/client.js';
import { QueuedThrottle, SlidingWindowPolicy, type LimitPolicy } from '../../../lib/upstream/throttle.js';
import { AppUsagePolicy } from './app-usage.js';
import { throttlingErrorOf, type ThrottlingError } from './protocol.js';
import { readAppUsage, readCustomAudienceUsage, readInsightsUsage, type BudgetUsage } from './usage.js';

/** Meta's published limits for one ad account and app, as far as the connector spends them. */
export interface MetaLimits {
  /**
   * Ads Insights calls per rolling hour for the ad account (the `ads_insights` business-use-case
   * budget; it grows with the account's access tier and active ads). @default 600
   */
  insightsPerHour: number;
  /**
   * Custom audience calls (users edge, audience creation) per rolling window for the ad account:
   * the `custom_audience` business-use-case budget, 5,000 an hour at the development tier and
   * 190,000 at standard, plus 40 per active audience. @default 5000
   */
  customAudienceCallsPerHour: number;
  /**
   * Conversions API calls per rolling window: they count against the app's platform budget
   * (`X-App-Usage`), for which Meta publishes no fixed number; the usage Meta reports corrects it.
   * @default 1000
   */
  appCallsPerHour: number;
  /**
   * The window the two write budgets are counted over. @default 3_600_000 (Meta's rolling hour;
   * shorter only against a sandbox configured the same, so a test sees a window pass)
   */
  writeWindowMs: number;
}

export const META_DEFAULT_LIMITS: MetaLimits = {
  insightsPerHour: 600,
  customAudienceCallsPerHour: 5_000,
  appCallsPerHour: 1_000,
  writeWindowMs: 3_600_000,
};

const HOUR_MS = 3_600_000;
/**
 * Meta stamps a call when it arrives, a little after we count it: a slot we see free at exactly
 * the window's end may not be free yet on Meta's side.
 */
export const WINDOW_MARGIN_MS = 250;
/** The one endpoint that spends the insights budget (campaign and account reads do not). */
export const INSIGHTS_ENDPOINT = 'GET /act_{adAccountId}/insights';
/** Conversions API events: the app's platform budget. */
export const CONVERSIONS_ENDPOINT = 'POST /{pixelId}/events';
export const AUDIENCE_ENDPOINTS = {
  create: 'POST /act_{adAccountId}/customaudiences',
  add: 'POST /{audienceId}/users',
  remove: 'DELETE /{audienceId}/users',
} as const;
const CUSTOM_AUDIENCE_CALLS: ReadonlySet<string> = new Set(Object.values(AUDIENCE_ENDPOINTS));
/** Ads management's own budget: a refusal under it says nothing about insights. */
const ADS_MANAGEMENT_CODE = 80004;
const INSIGHTS_SUBCODE = 2446079;

/** One Meta budget: which calls spend it, how Meta reports it, what to call it in errors. */
export interface BudgetSpec {
  /** In words, for errors: "600 Ads Insights calls per hour". */
  description: string;
  max: number;
  windowMs: number;
  spends(call: UpstreamCall): boolean;
  /** What the answer's headers say about this budget; undefined when they say nothing. */
  usage(headers: ResponseHeaders): BudgetUsage | undefined;
  /** A throttling refusal of one of this budget's calls that another budget caused. */
  otherBudget?(error: ThrottlingError): boolean;
}

/** A rolling window that reads what Meta's answers say about its budget. */
export interface UsagePolicy extends LimitPolicy {
  readonly max: number;
  /** Calls counted in the window now. */
  readonly used: number;
  markUsed(used: number, now: number): void;
  observe(headers: ResponseHeaders, status: number, now: number): void;
}

/**
 * A rolling window corrected by what Meta says is spent: usage is a percentage of the budget, so
 * another process or app spending the same budget shows up as a share, which is marked used here
 * in proportion (the window never believes less than Meta reports).
 */
export class UsageWindowPolicy extends SlidingWindowPolicy {
  constructor(private readonly spec: BudgetSpec) {
    super(spec.max, spec.windowMs, spec.description, WINDOW_MARGIN_MS);
  }

  observe(headers: ResponseHeaders, _status: number, now: number): void {
    const usage = this.spec.usage(headers);
    if (usage) this.markUsed(Math.ceil((Math.min(100, usage.percent) / 100) * this.max), now);
  }
}

/**
 * Client-side flow control for one Meta budget: the calls that spend it queue behind it and fail
 * fast with UPSTREAM_RATE_LIMITED (`CLIENT_THROTTLE`) when the wait would pass the request's
 * deadline; other calls go straight through. When Meta says when access comes back
 * (`estimated_time_to_regain_access`), every call of the budget is held until then.
 */
export class MetaBudgetThrottle implements UpstreamThrottle {
  readonly policy: UsagePolicy;
  private readonly queue: QueuedThrottle;

  constructor(
    private readonly spec: BudgetSpec,
    policy: (spec: BudgetSpec) => UsagePolicy = (s) => new UsageWindowPolicy(s),
  ) {
    if (!Number.isInteger(spec.max) || spec.max < 1)
      throw new RangeError(
        `${spec.description}: the budget must be a positive integer, got ${String(spec.max)}`,
      );
    this.policy = policy(spec);
    this.queue = new QueuedThrottle({ platform: 'meta', policy: this.policy });
  }

  spends(call: UpstreamCall): boolean {
    return this.spec.spends(call);
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    return this.spends(call) ? this.queue.acquire(call, deadline) : Promise.resolve();
  }

  release(call: UpstreamCall, outcome: ThrottleOutcome | undefined): void {
    // Meta reports a budget's usage on other answers too, so every answer corrects the window.
    if (this.spends(call)) this.queue.release(call, outcome);
    else if (outcome) this.policy.observe(outcome.headers, outcome.status, Date.now());
    if (!outcome) return;
    const regainMs = this.spec.usage(outcome.headers)?.regainAccessMs ?? 0;
    if (regainMs > 0) this.queue.blockUntil(Date.now() + regainMs);
    const refusal = this.spends(call) ? throttlingErrorOf(outcome.body) : undefined;
    if (refusal) this.throttled(refusal, outcome.headers);
  }

  /**
   * Meta refused one of this budget's calls with a throttling error. With usage headers, those
   * already said how much is spent and when access returns; without them the error is all there
   * is, so the budget is taken as spent for the rest of the window rather than retried into more
   * refusals.
   */
  throttled(error: ThrottlingError, headers: ResponseHeaders): void {
    if (this.spec.otherBudget?.(error)) return;
    if (this.spec.usage(headers) === undefined) this.policy.markUsed(this.policy.max, Date.now());
  }
}

/** The ad account's hourly Ads Insights budget (`ads_insights`, `X-FB-Ads-Insights-Throttle`). */
export class MetaInsightsThrottle extends MetaBudgetThrottle {
  constructor(limits: Pick<MetaLimits, 'insightsPerHour'>, adAccountId: string) {
    super({
      description: `${limits.insightsPerHour} Ads Insights calls per hour`,
      max: limits.insightsPerHour,
      windowMs: HOUR_MS,
      spends: (call) => call.endpoint === INSIGHTS_ENDPOINT,
      usage: (headers) => readInsightsUsage(headers, adAccountId),
      otherBudget: (error) => error.code === ADS_MANAGEMENT_CODE && error.subcode !== INSIGHTS_SUBCODE,
    });
  }
}

/** The ad account's `custom_audience` budget: audience creation and the users edge. */
export function customAudienceBudget(limits: MetaLimits, adAccountId: string): MetaBudgetThrottle {
  return new MetaBudgetThrottle({
    description: `${limits.customAudienceCallsPerHour} custom audience calls per ${limits.writeWindowMs / 1000} s`,
    max: limits.customAudienceCallsPerHour,
    windowMs: limits.writeWindowMs,
    spends: (call) => CUSTOM_AUDIENCE_CALLS.has(call.endpoint),
    usage: (headers) => readCustomAudienceUsage(headers, adAccountId),
  });
}

/** The app's platform budget, which Conversions API calls spend (`X-App-Usage`). */
export function appBudget(limits: MetaLimits): MetaBudgetThrottle {
  return new MetaBudgetThrottle(
    {
      description: `${limits.appCallsPerHour} Conversions API calls per ${limits.writeWindowMs / 1000} s`,
      max: limits.appCallsPerHour,
      windowMs: limits.writeWindowMs,
      spends: (call) => call.endpoint === CONVERSIONS_ENDPOINT,
      usage: readAppUsage,
    },
    (spec) => new AppUsagePolicy(spec, WINDOW_MARGIN_MS),
  );
}

/**
 * Every Meta budget the connector spends, reads and writes alike: a call queues behind the budget
 * it spends (insights, custom audience, the app's), every answer corrects every budget it reports
 * on, and calls that spend none (campaign listings, the account node) go straight through.
 */
export class MetaThrottle implements UpstreamThrottle {
  readonly insights: MetaInsightsThrottle;
  readonly customAudience: MetaBudgetThrottle;
  readonly app: MetaBudgetThrottle;
  private readonly budgets: readonly MetaBudgetThrottle[];

  constructor(limits: MetaLimits, adAccountId: string) {
    this.insights = new MetaInsightsThrottle(limits, adAccountId);
    this.customAudience = customAudienceBudget(limits, adAccountId);
    this.app = appBudget(limits);
    this.budgets = [this.insights, this.customAudience, this.app];
  }

  acquire(call: UpstreamCall, deadline: number): Promise<void> {
    return this.budgets.find((b) => b.spends(call))?.acquire(call, deadline) ?? Promise.resolve();
  }

  release(call: UpstreamCall, outcome: ThrottleOutcome | undefined): void {
    for (const budget of this.budgets) budget.release(call, outcome);
  }
}
