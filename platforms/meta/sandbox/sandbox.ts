import { RollingWindow } from '../../../sandboxes/kit/limits.js';
import type {
  Admission,
  PlatformSandbox,
  Route,
  SandboxRequest,
  SandboxResponse,
} from '../../../sandboxes/kit/types.js';
import { AD_ACCOUNT_CURRENCY, type World } from '../../../sandboxes/world/world.js';
import { META_DEMO } from '../demo.js';
import { Audiences } from './audiences.js';
import { ACCOUNT_FIELDS, accountNode, CAMPAIGN_FIELDS, campaignNode } from './campaigns.js';
import {
  applicationRequestLimitReached,
  graphError,
  insightsThrottled,
  invalidParameter,
  invalidToken,
  unknownObject,
  userRequestLimitReached,
} from './errors.js';
import { fieldsOf, nonexistingField } from './fields.js';
import { insightsQueryOf, insightsRows } from './insights.js';
import { pageOf, pageRequest } from './paging.js';
import { Pixels } from './pixels.js';
import { appUsageHeader, businessUseCaseHeader, spend, usageHeaders } from './usage.js';
import { checkVersion } from './version.js';
import { writeRoutes, WRITE_ENDPOINTS } from './writes.js';

/**
 * The Meta Marketing API as the `ads` connector uses it: the ad account node, its campaigns and its
 * Ads Insights edge (campaign or account level, any time range, daily or whole-range rows), with the
 * Graph API's token auth, cursor paging, `{"error":{...}}` bodies (HTTP 400 for nearly everything)
 * and the Ads Insights business-use-case limit reported in `X-Business-Use-Case-Usage`. Its write
 * paths (writes.ts): the Conversions API, customer-file custom audiences and their users edge, each
 * under its own budget, with what they changed at `/__sandbox/meta/*`.
 */

export interface MetaSandboxOptions {
  world: World;
  accessToken: string;
  /** The one ad account the token can read, digits without `act_`. */
  adAccountId: string;
  /** Insights calls per rolling hour per ad account before throttling. @default 600 */
  callsPerHour?: number;
  /** The account's display name. @default 'Demo Outdoor Co' */
  accountName?: string;
  /** Scheme and host written into `paging.next`. @default 'https://graph.facebook.com' */
  publicBaseUrl?: string;
  /**
   * Custom audience calls (users edge, audience creation) per rolling window per ad account before
   * throttling: the `custom_audience` business-use-case budget, 5,000 an hour at Meta's development
   * tier (plus 40 per active audience, left out). @default 5000
   */
  customAudienceCallsPerHour?: number;
  /**
   * Conversions API calls per rolling window before code 4, reported in `X-App-Usage`. Meta
   * publishes no number for the Conversions API; the sandbox applies an app-level budget of its
   * own choosing. @default 1000
   */
  appCallsPerHour?: number;
  /**
   * The rolling window of the two write budgets above. @default 3_600_000 (an hour, as on Meta;
   * shorter only so a test can see a window pass)
   */
  writeWindowMs?: number;
  /** The pixels (datasets) that take Conversions API events. @default the demo pixel */
  pixelIds?: readonly string[];
  /** Customer-file audiences that exist from the start. @default the demo "Lapsed buyers" */
  audiences?: readonly { id: string; name: string }[];
  /** The sandbox's clock, for the Conversions API's 7-day window. @default Date.now */
  now?: () => number;
}

const HOUR_MS = 3_600_000;
/** Custom audience uploads: 10,000 rows of several hashes each run past the kit's 1 MiB. */
const MAX_BODY_BYTES = 16 * 1_048_576;
const INSIGHTS_ENDPOINT = 'GET /{version}/act_{adAccountId}/insights';

/** The token from `Authorization: Bearer|OAuth <token>` or else the `access_token` parameter. */
function tokenOf(request: SandboxRequest): string | null {
  const header = /^(?:Bearer|OAuth) (.+)$/i.exec(request.headers.authorization ?? '');
  return header?.[1] ?? request.query.get('access_token');
}

export function createMetaSandbox(options: MetaSandboxOptions): PlatformSandbox {
  const { world, adAccountId } = options;
  const publicBaseUrl = options.publicBaseUrl ?? 'https://graph.facebook.com';
  const account = {
    id: adAccountId,
    name: options.accountName ?? 'Demo Outdoor Co',
    currency: AD_ACCOUNT_CURRENCY,
  };
  // Meta counts the Ads Insights budget per ad account; the sandbox serves exactly one.
  const insightsWindow = new RollingWindow(options.callsPerHour ?? 600, HOUR_MS);
  const writeWindowMs = options.writeWindowMs ?? HOUR_MS;
  const audienceWindow = new RollingWindow(options.customAudienceCallsPerHour ?? 5_000, writeWindowMs);
  const appWindow = new RollingWindow(options.appCallsPerHour ?? 1_000, writeWindowMs);
  const now = options.now ?? Date.now;
  const writes = {
    now,
    pixels: new Pixels(options.pixelIds ?? [META_DEMO.assets.pixelId]),
    audiences: new Audiences(
      options.audiences ?? [{ id: META_DEMO.assets.lapsedBuyersAudienceId, name: 'Lapsed buyers' }],
    ),
  };
  const today = world.options.anchorDate;
  /** Newest first, the order Meta lists an account's campaigns in. */
  const campaignsNewestFirst = [...world.adCampaigns].sort((a, b) =>
    a.id < b.id ? 1 : a.id > b.id ? -1 : 0,
  );

  /** The version and account in the path: a Graph error when either is not one the sandbox serves. */
  function checkTarget(request: SandboxRequest): SandboxResponse | undefined {
    const denied = checkVersion(request);
    if (denied) return denied;
    const id = request.params['adAccountId'] ?? '';
    return id === adAccountId ? undefined : unknownObject(`act_${id}`);
  }

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/{version}/act_{adAccountId}',
      handle(request) {
        const denied = checkTarget(request);
        if (denied) return denied;
        const fields = fieldsOf(request.query, ACCOUNT_FIELDS, nonexistingField('AdAccount'));
        if ('error' in fields) return invalidParameter(fields.error);
        return { status: 200, json: accountNode(account, fields) };
      },
    },
    {
      method: 'GET',
      path: '/{version}/act_{adAccountId}/campaigns',
      handle(request) {
        const denied = checkTarget(request);
        if (denied) return denied;
        const fields = fieldsOf(request.query, CAMPAIGN_FIELDS, nonexistingField('Campaign'));
        if ('error' in fields) return invalidParameter(fields.error);
        const page = pageRequest(request.query);
        if ('error' in page) return invalidParameter(page.error);
        const nodes = campaignsNewestFirst.map((c) => campaignNode(c, fields, today, adAccountId));
        return { status: 200, json: pageOf(nodes, page, { request, publicBaseUrl }) };
      },
    },
    {
      method: 'GET',
      path: '/{version}/act_{adAccountId}/insights',
      handle(request) {
        const denied = checkTarget(request);
        if (denied) return denied;
        const query = insightsQueryOf(request.query, today);
        if ('error' in query) return invalidParameter(query.error);
        const page = pageRequest(request.query);
        if ('error' in page) return invalidParameter(page.error);
        const rows = insightsRows(world.adCampaigns, query, account);
        return { status: 200, json: pageOf(rows, page, { request, publicBaseUrl }) };
      },
    },
  ];
  const { routes: writeRouteList, adminRoutes } = writeRoutes(writes, checkTarget);

  return {
    platform: 'meta',
    routes: [...routes, ...writeRouteList],
    adminRoutes,
    maxBodyBytes: MAX_BODY_BYTES,
    authenticate(request) {
      return tokenOf(request) === options.accessToken ? undefined : invalidToken();
    },
    admit(request): Admission {
      if (request.endpoint === WRITE_ENDPOINTS.events) {
        const { ok, usage } = spend(appWindow);
        const headers = appUsageHeader(usage);
        return ok ? { headers } : { reject: applicationRequestLimitReached(), headers };
      }
      if (WRITE_ENDPOINTS.customAudience.has(request.endpoint)) {
        const { ok, usage } = spend(audienceWindow);
        const headers = businessUseCaseHeader(adAccountId, 'custom_audience', usage);
        return ok ? { headers } : { reject: userRequestLimitReached(), headers };
      }
      // Only Ads Insights calls spend the insights budget, and only for the account the sandbox has.
      if (request.endpoint !== INSIGHTS_ENDPOINT || request.params['adAccountId'] !== adAccountId) return {};
      const { ok, usage } = spend(insightsWindow);
      const headers = usageHeaders(adAccountId, usage);
      return ok ? { headers } : { reject: insightsThrottled(), headers };
    },
    errorResponse(status, message) {
      if (status >= 500)
        return graphError(status, { message, type: 'OAuthException', code: 2, is_transient: true });
      return graphError(status, { message, type: 'GraphMethodException', code: 100 });
    },
    rateLimitedResponse() {
      // Meta sends no Retry-After; clients read the usage headers to know how long to wait.
      return insightsThrottled();
    },
  };
}
