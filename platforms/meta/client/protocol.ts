import { readApiVersion } from '../../../lib/upstream/api-version.js';
import type { FailureDescription, PlatformProtocol, ResponseHeaders } from '../../../lib/upstream/client.js';
import { businessUseCaseUsage, graphErrorBody } from './schemas.js';
import { jsonHeader } from './usage.js';

/**
 * Throttling error codes: 80000 (Ads Insights) and 80004 (ads management) business-use-case limits,
 * 17 (user or ad account, custom audiences among its budgets), 4 (app), 32 (page) and 613 (calls
 * within one hour); subcode 2446079 marks an ad account's business-use-case budget whatever the
 * code. Meta answers all of them with HTTP 400.
 */
const THROTTLE_CODES = new Set([4, 17, 32, 613, 80000, 80004]);
const THROTTLE_SUBCODES = new Set([2446079]);
/** Invalid, expired or revoked access token. */
const TOKEN_CODE = 190;

/**
 * Seconds until the ad account can call again, from `X-Business-Use-Case-Usage` (the longest
 * `estimated_time_to_regain_access`, in minutes). Undefined when the header is absent, unreadable or
 * says 0: then the client backs off on its own, since Meta sends no Retry-After.
 */
export function regainAccessSeconds(headers: ResponseHeaders): number | undefined {
  const usage = jsonHeader(headers, 'x-business-use-case-usage', businessUseCaseUsage);
  if (!usage) return undefined;
  const minutes = Math.max(
    0,
    ...Object.values(usage)
      .flat()
      .map((entry) => entry.estimated_time_to_regain_access ?? 0),
  );
  return minutes > 0 ? minutes * 60 : undefined;
}

export interface ThrottlingError {
  code: number | undefined;
  subcode: number | undefined;
}

/** The code and subcode of a Graph error body that says a limit refused the call; else undefined. */
export function throttlingErrorOf(body: unknown): ThrottlingError | undefined {
  const parsed = graphErrorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { code, error_subcode: subcode } = parsed.data.error;
  const throttled =
    (code !== undefined && THROTTLE_CODES.has(code)) ||
    (subcode !== undefined && THROTTLE_SUBCODES.has(subcode));
  return throttled ? { code, subcode } : undefined;
}

/** The Graph API version a base URL asks for (`…/v25.0`), or null. */
export function requestedGraphVersion(baseUrl: string): string | null {
  return /\/(v\d+\.\d+)(?:\/|$)/.exec(new URL(baseUrl).pathname)?.[1] ?? null;
}

/** The permission the access token needs, and no more: reading insights (never `ads_management`). */
export const META_OAUTH_SCOPES = ['ads_read'] as const;

/**
 * How Meta fails. A throttling refusal is read here for the client's retry and again by the
 * throttle (limits.ts) from the answer it is handed, which knows which budget the call spent.
 */
export function metaProtocol(accessToken: string, requestedVersion: string | null = null): PlatformProtocol {
  // A header, not the `access_token` parameter, so the token never sits in a URL that gets logged.
  const headers = { authorization: `Bearer ${accessToken}` };
  return {
    platform: 'meta',
    authHeaders: () => headers,
    // Meta answers with the version that served the call (an unversioned or retired one is upgraded).
    apiVersion: (responseHeaders) =>
      readApiVersion(responseHeaders, { versionHeader: 'facebook-api-version', requested: requestedVersion }),
    describeFailure(status, body, responseHeaders): FailureDescription {
      const parsed = graphErrorBody.safeParse(body);
      const error = parsed.success ? parsed.data.error : {};
      const { code, error_subcode: subcode } = error;
      const upstreamCode =
        code === undefined ? undefined : subcode === undefined ? String(code) : `${code}/${subcode}`;
      const rateLimited = throttlingErrorOf(body) !== undefined;
      const retryAfterSeconds = rateLimited ? regainAccessSeconds(responseHeaders) : undefined;
      // The Conversions API and the custom audience edge say what is wrong in `error_user_msg`
      // (which field of which event); `message` alone is "Invalid parameter".
      const detail = error.error_user_msg ? `: ${error.error_user_msg}` : '';
      const text = `${error.message ?? `HTTP ${status}`}${detail}`.slice(0, 300);
      return {
        message: error.type ? `${error.type}: ${text}` : text,
        ...(upstreamCode ? { upstreamCode } : {}),
        rateLimited,
        unauthorized: code === TOKEN_CODE,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      };
    },
  };
}
