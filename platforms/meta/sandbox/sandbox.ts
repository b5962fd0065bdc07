import { RollingWindow } from '../../../sandboxes/kit/limits.js';
import type {
  Admission,
  PlatformSandbox,
  Route,
  SandboxRequest,
  SandboxResponse,
} from '../../../sandboxes/kit/types.js';
import { AD_ACCOUNT_CURRENCY, type World } from '../../../sandboxes/world/world.js';
import { ACCOUNT_FIELDS, accountNode, CAMPAIGN_FIELDS, campaignNode } from './campaigns.js';
import { graphError, insightsThrottled, invalidParameter, invalidToken, unknownObject } from './errors.js';
import { fieldsOf, nonexistingField } from './fields.js';
import { insightsQueryOf, insightsRows } from './insights.js';
import { pageOf, pageRequest } from './paging.js';
import { insightsUsage, usageHeaders } from './usage.js';

/**
 * The Meta Marketing API as the `ads` connector uses it: the ad account node, its campaigns and its
 * Ads Insights edge (campaign or account level, any time range, daily or whole-range rows), with the
 * Graph API's token auth, cursor paging, `{"error":{...}}` bodies (HTTP 400 for nearly everything)
 * and the Ads Insights business-use-case limit reported in `X-Business-Use-Case-Usage`.
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
}

const HOUR_MS = 3_600_000;
const VERSION = /^v\d{1,2}\.\d$/;
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
  const today = world.options.anchorDate;
  /** Newest first, the order Meta lists an account's campaigns in. */
  const campaignsNewestFirst = [...world.adCampaigns].sort((a, b) =>
    a.id < b.id ? 1 : a.id > b.id ? -1 : 0,
  );

  /** The version and account in the path: a Graph error when either is not one the sandbox serves. */
  function checkTarget(request: SandboxRequest): SandboxResponse | undefined {
    const version = request.params['version'] ?? '';
    if (!VERSION.test(version))
      return graphError(400, {
        message: `Unknown path components: /${version}`,
        type: 'OAuthException',
        code: 2500,
      });
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

  return {
    platform: 'meta',
    routes,
    authenticate(request) {
      return tokenOf(request) === options.accessToken ? undefined : invalidToken();
    },
    admit(request): Admission {
      // Only Ads Insights calls spend the insights budget, and only for the account the sandbox has.
      if (request.endpoint !== INSIGHTS_ENDPOINT || request.params['adAccountId'] !== adAccountId) return {};
      const taken = insightsWindow.take();
      let regainInMs = taken.retryAfterMs;
      // This call used the last slot: a full window refuses without recording, so asking it again
      // only reads when the oldest call leaves it, which is when access comes back.
      if (taken.ok && taken.remaining === 0) regainInMs = insightsWindow.take().retryAfterMs;
      const headers = usageHeaders(adAccountId, insightsUsage(insightsWindow, regainInMs));
      return taken.ok ? { headers } : { reject: insightsThrottled(), headers };
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
