import { RecordCache } from '../../../lib/cache/record-cache.js';
import { UpstreamError } from '../../../lib/errors.js';
import type { RequestContext } from '../../../lib/request-context.js';
import { connectorGuard } from '../../../lib/upstream/breaker.js';
import { deadlineError, UpstreamClient, type UpstreamThrottle } from '../../../lib/upstream/client.js';
import type { ConnectorSettings } from '../../../lib/upstream/connector-settings.js';
import { SharedReads } from '../../../lib/upstream/deadline.js';
import { MetaAudiences } from './audiences.js';
import { MetaConversions } from './conversions.js';
import { INSIGHTS_ENDPOINT, META_DEFAULT_LIMITS, MetaThrottle, type MetaLimits } from './limits.js';
import { metaProtocol, requestedGraphVersion } from './protocol.js';
import {
  CAMPAIGN_FIELDS,
  INSIGHT_FIELDS,
  toAdCampaignInsight,
  toAdCampaignSummary,
  type AdCampaignInsight,
  type AdCampaignSummary,
} from './records.js';
import { adAccountNode, campaignInsightsPage, campaignsPage } from './schemas.js';
import { leaseAccountThrottle, type ThrottleLease } from '../../../lib/upstream/account-throttles.js';

/**
 * Meta's own settings; the cache (insights by date range, the account currency), throttle and
 * breaker are every connector's.
 */
export interface MetaSettings extends ConnectorSettings {
  /** Graph API base URL including the version: `https://graph.facebook.com/v25.0`. */
  baseUrl: string;
  accessToken: string;
  /** The ad account, digits without `act_`; it scopes caches and limits. */
  adAccountId: string;
  /** Rows per page of a listing, 1..500. @default 500 (Meta's maximum: fewest calls per listing) */
  pageSize?: number;
  /**
   * The budgets calls queue behind. @default META_DEFAULT_LIMITS (600 insights calls per hour,
   * 5,000 custom audience calls per hour, 1,000 Conversions API calls per hour)
   */
  limits?: Partial<MetaLimits>;
  /**
   * Replaces the throttle built from `limits` (tests inject their own; a MetaBudgetThrottle hears
   * Meta's throttling errors on the calls it spends). @default a MetaThrottle over `limits`
   */
  throttle?: UpstreamThrottle;
  /** The clock Conversions API events are checked against (Meta's 7 days). @default Date.now */
  now?: () => number;
}

/** Meta's documented page maximum for Ads Insights and campaign listings. */
export const META_LIMITS = { pageSize: 500 } as const;

/** Cache id of the account currency among the account's campaign reports. */
const CURRENCY_ID = 'currency';

/** An inclusive range of days, `YYYY-MM-DD`, in the ad account's time zone. */
export interface DayRange {
  since: string;
  until: string;
}

/** How a range's insights are keyed in the record cache: `2026-11-01..2026-11-28`. */
export const rangeId = (range: DayRange) => `${range.since}..${range.until}`;

/**
 * The ads connector: Meta Marketing API. Reads Ads Insights at campaign level and the account's
 * campaigns, answering in the graph's conventions (AdCampaignInsight); writes Conversions API
 * events (`conversions`) and customer-file custom audiences (`audiences`). Reads and writes share
 * one HTTP client, so one throttle (each call behind the budget it spends) and one circuit
 * breaker; Meta's names and shapes stay in this folder.
 */
export class MetaConnector {
  readonly accountId: string;
  /** Conversions API events (`POST /{pixel-id}/events`). */
  readonly conversions: MetaConversions;
  /** Customer-file custom audiences and their users (`/{audience-id}/users`). */
  readonly audiences: MetaAudiences;
  private readonly http: UpstreamClient;
  private readonly accountPath: string;
  private readonly pageSize: number;
  private readonly cache: RecordCache;
  private currency: Promise<string> | undefined;
  /** Listings under way, by range id: concurrent requests for one range share a single read. */
  private readonly reading = new SharedReads<AdCampaignInsight[]>(() =>
    deadlineError('meta', INSIGHTS_ENDPOINT, `no answer before the request's deadline`),
  );

  /** This account's throttle, shared with the process's other connectors to it (account-throttles.ts). */
  private readonly throttleLease: ThrottleLease<MetaThrottle | UpstreamThrottle>;

  constructor(settings: MetaSettings) {
    this.accountId = settings.adAccountId;
    this.cache = settings.cache ?? RecordCache.off('meta', settings.adAccountId);
    this.accountPath = `/act_${encodeURIComponent(settings.adAccountId)}`;
    this.pageSize = settings.pageSize ?? META_LIMITS.pageSize;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > META_LIMITS.pageSize)
      throw new RangeError(
        `pageSize must be an integer from 1 to ${META_LIMITS.pageSize}, got ${this.pageSize}`,
      );
    const limits = { ...META_DEFAULT_LIMITS, ...settings.limits };
    this.throttleLease = leaseAccountThrottle(
      settings.throttle,
      { platform: 'meta', baseUrl: settings.baseUrl, account: settings.adAccountId, limits },
      () => new MetaThrottle(limits, settings.adAccountId),
    );
    const throttle = this.throttleLease.throttle;
    this.http = new UpstreamClient({
      protocol: metaProtocol(settings.accessToken, requestedGraphVersion(settings.baseUrl)),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      throttle,
      // The breaker's own cheap read, once it has been open a while; never a user's request.
      guard: connectorGuard('meta', settings, (logger) =>
        this.http.probe(
          {
            method: 'GET',
            endpoint: 'GET /act_{adAccountId}',
            path: this.accountPath,
            query: { fields: 'currency' },
          },
          logger,
        ),
      ),
    });
    this.conversions = new MetaConversions(this.http, settings.now);
    this.audiences = new MetaAudiences(this.http, this.accountPath);
  }

  /**
   * Every campaign that delivered in the range, one row each with its totals over the whole range
   * (`time_increment=all_days`). One listing answers every campaign and key of the range, so it is
   * what the cache keeps (by `since..until`) and what concurrent callers share.
   */
  async campaignInsights(ctx: RequestContext, range: DayRange): Promise<AdCampaignInsight[]> {
    const id = rangeId(range);
    const cached = await this.cache.lookupOne<AdCampaignInsight[]>('campaignReports', id);
    if (cached.state === 'found') return cached.value;
    return this.reading.read(id, ctx, (shared) => this.readInsights(shared, range));
  }

  /** Forgets the cached insights of one range, so the next read goes to Meta. */
  async invalidateRange(since: string, until: string): Promise<void> {
    await this.cache.invalidate('campaignReports', rangeId({ since, until }));
  }

  private async readInsights(ctx: RequestContext, range: DayRange): Promise<AdCampaignInsight[]> {
    const rows = await this.fetchInsights(ctx, range);
    await this.cache.setMany('campaignReports', [[rangeId(range), rows]]);
    return rows;
  }

  /** The listing, following the cursor to the last page. */
  private async fetchInsights(ctx: RequestContext, range: DayRange): Promise<AdCampaignInsight[]> {
    const out: AdCampaignInsight[] = [];
    let after: string | undefined;
    do {
      const body = await this.http.json(
        ctx,
        {
          method: 'GET',
          endpoint: INSIGHTS_ENDPOINT,
          path: `${this.accountPath}/insights`,
          query: {
            level: 'campaign',
            fields: INSIGHT_FIELDS.join(','),
            time_range: JSON.stringify({ since: range.since, until: range.until }),
            time_increment: 'all_days',
            limit: this.pageSize,
            after,
          },
        },
        campaignInsightsPage,
      );
      out.push(...body.data.map(toAdCampaignInsight));
      after = body.paging?.next ? body.paging.cursors?.after : undefined;
    } while (after);
    const currencies = new Set(out.map((row) => row.spend.currency));
    if (currencies.size > 1) {
      // An ad account spends in the one currency it was created with; rows that disagree cannot be added up.
      throw new UpstreamError(
        `meta returned an unexpected payload from ${INSIGHTS_ENDPOINT}: data: account_currency differs between rows (${[...currencies].join(', ')})`,
        { platform: 'meta', code: 'UPSTREAM_BAD_RESPONSE', endpoint: INSIGHTS_ENDPOINT },
      );
    }
    return out;
  }

  /** Every campaign of the account, delivering or not, following the cursor to the last page. */
  async listCampaigns(ctx: RequestContext): Promise<AdCampaignSummary[]> {
    const out: AdCampaignSummary[] = [];
    let after: string | undefined;
    do {
      const body = await this.http.json(
        ctx,
        {
          method: 'GET',
          endpoint: 'GET /act_{adAccountId}/campaigns',
          path: `${this.accountPath}/campaigns`,
          query: { fields: CAMPAIGN_FIELDS.join(','), limit: this.pageSize, after },
        },
        campaignsPage,
      );
      out.push(...body.data.map(toAdCampaignSummary));
      after = body.paging?.next ? body.paging.cursors?.after : undefined;
    } while (after);
    return out;
  }

  /**
   * The currency the account reports spend in (ISO-4217). An account's currency is fixed when it is
   * created, so it is read once per connector (and shared through the cache with other processes);
   * a failed read is not kept.
   */
  accountCurrency(ctx: RequestContext): Promise<string> {
    if (!this.currency) {
      const read = this.readCurrency(ctx);
      read.catch(() => {
        if (this.currency === read) this.currency = undefined;
      });
      this.currency = read;
    }
    return this.currency;
  }

  private readCurrency(ctx: RequestContext): Promise<string> {
    return this.cache.loadOne('campaignReports', CURRENCY_ID, async () => {
      const account = await this.http.json(
        ctx,
        {
          method: 'GET',
          endpoint: 'GET /act_{adAccountId}',
          path: this.accountPath,
          query: { fields: 'currency' },
        },
        adAccountNode,
      );
      return account.currency;
    });
  }

  close(): Promise<void> {
    this.throttleLease.release();
    return this.http.close();
  }
}
