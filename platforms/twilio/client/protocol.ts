import { readApiVersion } from '../../../lib/upstream/api-version.js';
import type { FailureDescription, PlatformProtocol } from '../../../lib/upstream/client.js';
import { twilioErrorBody } from './schemas.js';

/** The REST API version the client speaks; Twilio carries it in the path, not in a header. */
export const TWILIO_API_VERSION = '2010-04-01';

/**
 * Twilio has no OAuth scopes: an auth token acts for the whole account, an API key for what its
 * type allows. Least privilege is a key rather than the auth token (see the descriptor).
 */
export const TWILIO_OAUTH_SCOPES: readonly string[] = [];

/** Codes that say the call was refused for its rate (20429: too many concurrent requests). */
const RATE_LIMIT_CODES = new Set([20429]);
/** 20003: authentication failed (wrong SID, token or key). */
const AUTH_CODES = new Set([20003]);

/** HTTP Basic credentials: the account SID and auth token, or an API key SID and its secret. */
export type TwilioCredentials =
  { accountSid: string; authToken: string } | { accountSid: string; apiKeySid: string; apiKeySecret: string };

/** The user name and password Twilio's Basic auth takes for `credentials`. */
export function basicPair(credentials: TwilioCredentials): [string, string] {
  return 'authToken' in credentials
    ? [credentials.accountSid, credentials.authToken]
    : [credentials.apiKeySid, credentials.apiKeySecret];
}

/**
 * Twilio's REST API at the HTTP level: Basic auth on every call (the secret never in a URL), and
 * its error body `{code, message, more_info, status}` read into the project's codes. The secret is
 * cut out of any text Twilio echoes back.
 */
export function twilioProtocol(credentials: TwilioCredentials): PlatformProtocol {
  const [user, secret] = basicPair(credentials);
  const headers = { authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` };
  const scrub = (text: string) => text.split(secret).join('[secret]');
  return {
    platform: 'twilio',
    authHeaders: () => headers,
    // No version header: the version is the one in the path; a retired one would say so with Deprecation/Sunset.
    apiVersion: (responseHeaders) => readApiVersion(responseHeaders, { requested: TWILIO_API_VERSION }),
    describeFailure(status, body): FailureDescription {
      const parsed = twilioErrorBody.safeParse(body);
      if (!parsed.success) return { message: `HTTP ${status}`, rateLimited: status === 429 };
      const { code, message, more_info: moreInfo } = parsed.data;
      const text = `${message}${moreInfo ? ` (${moreInfo})` : ''}`;
      return {
        message: scrub(text).slice(0, 200),
        upstreamCode: String(code),
        rateLimited: status === 429 || RATE_LIMIT_CODES.has(code),
        unauthorized: AUTH_CODES.has(code),
      };
    },
  };
}
