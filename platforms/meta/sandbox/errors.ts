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
}

/** `fbtrace_id` is Meta's per-request support id: random, about 23 URL-safe characters. */
function traceId(): string {
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

export function unknownObject(id: string): SandboxResponse {
  return graphError(400, {
    message: `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
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
