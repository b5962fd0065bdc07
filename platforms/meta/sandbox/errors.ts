import { randomBytes } from 'node:crypto';
import type { SandboxResponse } from '../../../sandboxes/kit/types.js';

/**
 * The Graph API error body, `{"error":{...}}`, the one shape Meta uses for every failure. Meta
 * answers most of them with HTTP 400, even expired tokens and throttling; the code says which.
 */
export interface GraphErrorFields {
  message: string;
  type: 'OAuthException' | 'GraphMethodException';
  code: number;
  error_subcode?: number;
  is_transient?: boolean;
  /** The Conversions and Custom Audience endpoints say what is wrong in these two. */
  error_user_title?: string;
  error_user_msg?: string;
}

/** `fbtrace_id` is Meta's per-request support id: random, about 23 URL-safe characters. */
export function traceId(): string {
  return randomBytes(18).toString('base64url').slice(0, 23);
}

export function graphError(status: number, fields: GraphErrorFields): SandboxResponse {
  return { status, json: { error: { ...fields, fbtrace_id: traceId() } } };
}

/** Code 100, "Invalid parameter": what Meta answers for any argument it does not accept. */
export function invalidParameter(message: string): SandboxResponse {
  return graphError(400, { message: `(#100) ${message}`, type: 'OAuthException', code: 100 });
}

export function invalidToken(): SandboxResponse {
  return graphError(400, {
    message: 'Invalid OAuth access token - Cannot parse access token',
    type: 'OAuthException',
    code: 190,
  });
}

export function unknownObject(id: string, method = 'GET'): SandboxResponse {
  return graphError(400, {
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    type: 'GraphMethodException',
    code: 100,
    error_subcode: 33,
  });
}

/** Code 80000 / subcode 2446079: the ad account spent its Ads Insights business-use-case budget. */
export function insightsThrottled(): SandboxResponse {
  return graphError(400, {
    message:
      '(#80000) There have been too many calls from this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
    type: 'OAuthException',
    code: 80000,
    error_subcode: 2446079,
  });
}

/**
 * Code 17 / subcode 2446079, "User request limit reached": the ad account spent a business-use-case
 * budget other than Ads Insights (the custom audience one here), as Meta's rate-limiting page lists it.
 */
export function userRequestLimitReached(): SandboxResponse {
  return graphError(400, {
    message: '(#17) User request limit reached',
    type: 'OAuthException',
    code: 17,
    error_subcode: 2446079,
    is_transient: true,
  });
}

/** Code 4, "Application request limit reached": the app spent its platform budget (`X-App-Usage`). */
export function applicationRequestLimitReached(): SandboxResponse {
  return graphError(400, {
    message: '(#4) Application request limit reached',
    type: 'OAuthException',
    code: 4,
    is_transient: true,
  });
}

/**
 * Code 100 with Meta's user-facing title and message: how the Conversions API and the custom
 * audience users edge refuse a request they cannot take, the whole request at once.
 */
export function invalidRequest(title: string, detail: string, subcode?: number): SandboxResponse {
  return graphError(400, {
    message: 'Invalid parameter',
    type: 'OAuthException',
    code: 100,
    ...(subcode !== undefined ? { error_subcode: subcode } : {}),
    is_transient: false,
    error_user_title: title,
    error_user_msg: detail,
  });
}
