import { UpstreamError } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { UpstreamClient, type UpstreamGuard, type UpstreamThrottle } from '../../lib/upstream/client.js';
import { metaProtocol } from './protocol.js';
import {
  CAMPAIGN_FIELDS,
  INSIGHT_FIELDS,
  toAdCampaignInsight,
  toAdCampaignSummary,
  type AdCampaignInsight,
  type AdCampaignSummary,
} from './records.js';
import { adAccountNode, campaignInsightsPage, campaignsPage } from './schemas.js';

export interface MetaSettings {
  /** Graph API base URL including the version: `https://graph.facebook.com/v25.0`. */
  baseUrl: string;
  accessToken: string;
  /** The ad account, digits without `act_`; it scopes caches and limits. */
  adAccountId: string;
  timeoutMs: number;
  maxRetries: number;
  /** Rows per page of a listing, 1..500. @default 500 (Meta's maximum: fewest calls per listing) */
  pageSize?: number;
  throttle?: UpstreamThrottle;
  guard?: UpstreamGuard;
}

/** Meta's documented page maximum for Ads Insights and campaign listings. */
export const META_LIMITS = { pageSize: 500 } as const;

const INSIGHTS_ENDPOINT = 'GET /act_{adAccountId}/insights';

/** An inclusive range of days, `YYYY-MM-DD`, in the ad account's time zone. */
export interface DayRange {
  since: string;
  until: string;
}

/**
 * The ads connector: Meta Marketing API, read-only (Ads Insights at campaign level, the account's
 * campaigns). Answers in the graph's conventions (AdCampaignInsight); Meta's names and shapes stay
 * in this folder.
 */
export class MetaConnector {
  readonly accountId: string;
  private readonly http: UpstreamClient;
  private readonly accountPath: string;
  private readonly pageSize: number;
  private currency: Promise<string> | undefined;

  constructor(settings: MetaSettings) {
    this.accountId = settings.adAccountId;
    this.accountPath = `/act_${encodeURIComponent(settings.adAccountId)}`;
    this.pageSize = settings.pageSize ?? META_LIMITS.pageSize;
    if (!Number.isInteger(this.pageSize) || this.pageSize < 1 || this.pageSize > META_LIMITS.pageSize)
      throw new RangeError(
        `pageSize must be an integer from 1 to ${META_LIMITS.pageSize}, got ${this.pageSize}`,
      );
    this.http = new UpstreamClient({
      protocol: metaProtocol(settings.accessToken),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      ...(settings.throttle ? { throttle: settings.throttle } : {}),
      ...(settings.guard ? { guard: settings.guard } : {}),
    });
  }

  /**
   * Every campaign that delivered in the range, one row each with its totals over the whole range
   * (`time_increment=all_days`), following the cursor to the last page.
   */
  async campaignInsights(ctx: RequestContext, range: DayRange): Promise<AdCampaignInsight[]> {
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
   * created, so it is read once per connector; a failed read is not kept.
   */
  accountCurrency(ctx: RequestContext): Promise<string> {
    if (!this.currency) {
      const read = this.http
        .json(
          ctx,
          {
            method: 'GET',
            endpoint: 'GET /act_{adAccountId}',
            path: this.accountPath,
            query: { fields: 'currency' },
          },
          adAccountNode,
        )
        .then((account) => account.currency);
      read.catch(() => {
        if (this.currency === read) this.currency = undefined;
      });
      this.currency = read;
    }
    return this.currency;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
