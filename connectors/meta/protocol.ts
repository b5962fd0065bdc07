import type { FailureDescription, PlatformProtocol, ResponseHeaders } from '../../lib/upstream/client.js';
import { businessUseCaseUsage, graphErrorBody } from './schemas.js';

/**
 * Throttling error codes: 80000 (Ads Insights) and 80004 (ads management) business-use-case limits,
 * 17 (user or ad account), 4 (app) and 613 (calls within one hour); subcode 2446079 marks the ad
 * account's insights budget whatever the code. Meta answers all of them with HTTP 400.
 */
const THROTTLE_CODES = new Set([4, 17, 613, 80000, 80004]);
const THROTTLE_SUBCODES = new Set([2446079]);
/** Invalid, expired or revoked access token. */
const TOKEN_CODE = 190;

function headerText(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Seconds until the ad account can call again, from `X-Business-Use-Case-Usage` (the longest
 * `estimated_time_to_regain_access`, in minutes). Undefined when the header is absent, unreadable or
 * says 0: then the client backs off on its own, since Meta sends no Retry-After.
 */
export function regainAccessSeconds(headers: ResponseHeaders): number | undefined {
  const text = headerText(headers, 'x-business-use-case-usage');
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const usage = businessUseCaseUsage.safeParse(json);
  if (!usage.success) return undefined;
  const minutes = Math.max(
    0,
    ...Object.values(usage.data)
      .flat()
      .map((entry) => entry.estimated_time_to_regain_access ?? 0),
  );
  return minutes > 0 ? minutes * 60 : undefined;
}

export function metaProtocol(accessToken: string): PlatformProtocol {
  // A header, not the `access_token` parameter, so the token never sits in a URL that gets logged.
  const headers = { authorization: `Bearer ${accessToken}` };
  return {
    platform: 'meta',
    authHeaders: () => headers,
    describeFailure(status, body, responseHeaders): FailureDescription {
      const parsed = graphErrorBody.safeParse(body);
      const error = parsed.success ? parsed.data.error : {};
      const { code, error_subcode: subcode } = error;
      const upstreamCode =
        code === undefined ? undefined : subcode === undefined ? String(code) : `${code}/${subcode}`;
      const rateLimited =
        (code !== undefined && THROTTLE_CODES.has(code)) ||
        (subcode !== undefined && THROTTLE_SUBCODES.has(subcode));
      const retryAfterSeconds = rateLimited ? regainAccessSeconds(responseHeaders) : undefined;
      const text = (error.message ?? `HTTP ${status}`).slice(0, 200);
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
