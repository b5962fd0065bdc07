import { z } from 'zod';

/**
 * Meta Graph API payloads as documented (Marketing API reference); only the fields the connector
 * reads. Ads Insights writes every metric as a string, so each is checked to be a number here.
 */

/** A count written as a string: `"361324"`. */
const count = z.string().regex(/^\d+$/, 'expected a whole number written as a string');
/** An amount written as a string in the account currency: `"5339.50"`, `"5339.5"`. */
const amount = z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal amount written as a string');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day written as YYYY-MM-DD');
const currency = z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 currency code');

/**
 * Graph API cursor paging. `next` is present while there are more pages, and then the `after`
 * cursor must be too: it is what the connector resumes from (it never follows `next`, whose URL
 * may carry a token).
 */
const paging = z
  .object({
    cursors: z.object({ before: z.string().optional(), after: z.string().min(1).optional() }).optional(),
    next: z.string().optional(),
  })
  .refine((p) => p.next === undefined || p.cursors?.after !== undefined, {
    message: 'a page with `next` must carry `cursors.after`',
    path: ['cursors', 'after'],
  });

export const adsAction = z.object({ action_type: z.string().min(1), value: count });
export type AdsAction = z.output<typeof adsAction>;

/** One campaign-level Ads Insights row. Meta leaves a metric out when it is zero for the row. */
export const campaignInsightRow = z.object({
  campaign_id: z.string().regex(/^\d+$/, 'expected a numeric campaign id'),
  campaign_name: z.string(),
  impressions: count.default('0'),
  clicks: count.default('0'),
  spend: amount.default('0'),
  actions: z.array(adsAction).optional(),
  account_currency: currency,
  date_start: day,
  date_stop: day,
});
export type CampaignInsightRow = z.output<typeof campaignInsightRow>;

export const campaignInsightsPage = z.object({
  data: z.array(campaignInsightRow),
  paging: paging.optional(),
});

export const campaignNode = z.object({
  id: z.string().regex(/^\d+$/, 'expected a numeric campaign id'),
  name: z.string(),
  status: z.string().min(1),
  objective: z.string().min(1).optional(),
});
export type CampaignNode = z.output<typeof campaignNode>;

export const campaignsPage = z.object({
  data: z.array(campaignNode),
  paging: paging.optional(),
});

export const adAccountNode = z.object({
  id: z.string().min(1),
  currency,
});

/** A Graph id: Meta writes ids as strings, some endpoints as numbers. */
const graphId = z
  .union([z.string().regex(/^\d+$/, 'expected a numeric id'), z.number().int().positive()])
  .transform(String);
const countOf = z.number().int().min(0);

/** `POST /{pixel-id}/events`: how many events Meta took, and its warnings about them. */
export const conversionsResponse = z.object({
  events_received: countOf,
  messages: z.array(z.string()).default([]),
  fbtrace_id: z.string().optional(),
});

/**
 * `POST|DELETE /{audience-id}/users`: rows Meta received in this part of the session, how many it
 * could not use, and a sample of those (entry → why).
 */
export const audienceUsersResponse = z.object({
  audience_id: graphId,
  session_id: graphId,
  num_received: countOf,
  num_invalid_entries: countOf,
  invalid_entry_samples: z
    .union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .default({})
    .transform((samples) =>
      Array.isArray(samples)
        ? samples.map((entry) => ({ entry: JSON.stringify(entry), reason: '' }))
        : Object.entries(samples).map(([entry, reason]) => ({
            entry,
            reason: typeof reason === 'string' ? reason : JSON.stringify(reason),
          })),
    ),
});

/** `POST /act_{ad-account-id}/customaudiences`: the new audience's id. */
export const customAudienceCreated = z.object({ id: graphId });

/** The Graph API error body: `{"error":{"message","type","code","error_subcode","fbtrace_id"}}`. */
export const graphErrorBody = z.object({
  error: z
    .object({
      message: z.string().optional(),
      type: z.string().optional(),
      code: z.number().int().optional(),
      error_subcode: z.number().int().optional(),
      is_transient: z.boolean().optional(),
      error_user_title: z.string().optional(),
      error_user_msg: z.string().optional(),
    })
    .loose(),
});

/**
 * `X-Business-Use-Case-Usage`: per business object (the ad account, digits without `act_`), usage
 * percentages of each budget and the minutes until access returns.
 */
export const businessUseCaseUsage = z.record(
  z.string(),
  z.array(
    z
      .object({
        type: z.string().optional(),
        call_count: z.number().optional(),
        total_cputime: z.number().optional(),
        total_time: z.number().optional(),
        estimated_time_to_regain_access: z.number().min(0).optional(),
      })
      .loose(),
  ),
);

/** `X-App-Usage`: the app's platform usage, in percent of its budget. */
export const appUsage = z
  .object({
    call_count: z.number().optional(),
    total_cputime: z.number().optional(),
    total_time: z.number().optional(),
  })
  .loose();

/** `X-FB-Ads-Insights-Throttle`: the app's and the ad account's insights usage, in percent. */
export const adsInsightsThrottle = z
  .object({
    app_id_util_pct: z.number().optional(),
    acc_id_util_pct: z.number().optional(),
  })
  .loose();
