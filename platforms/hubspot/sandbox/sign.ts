import { createHash, createHmac } from 'node:crypto';
import type { SignedBody } from '../../../lib/webhooks/sign.js';

/**
 * HubSpot's signing half, as HubSpot computes it: for the demo traffic, tests and benchmarks. The
 * gateway verifies with its own code (../webhooks/verify.ts), never with this, so a mistake here
 * cannot hide the same mistake there.
 */

export interface HubSpotV3SignInput {
  /** The app's client secret. */
  secret: string;
  /** @default 'POST' */
  method?: string;
  /**
   * The full URI as HubSpot signs it: the registered webhook URL, with HubSpot's listed escapes
   * (`%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`) decoded.
   */
  uri: string;
  body: SignedBody;
  /** Epoch milliseconds, also sent as `X-HubSpot-Request-Timestamp`. */
  timestamp: number;
}

/** `X-HubSpot-Signature-v3`: base64 HMAC-SHA256(secret, method + uri + body + timestamp). */
export function signHubSpotV3(input: HubSpotV3SignInput): string {
  return createHmac('sha256', input.secret)
    .update(`${input.method ?? 'POST'}${input.uri}`, 'utf8')
    .update(input.body)
    .update(String(input.timestamp), 'utf8')
    .digest('base64');
}

/** Legacy `X-HubSpot-Signature` (with `X-HubSpot-Signature-Version: v1`): hex SHA-256(secret + body). */
export function signHubSpotV1(secret: string, body: SignedBody): string {
  return createHash('sha256').update(secret, 'utf8').update(body).digest('hex');
}
