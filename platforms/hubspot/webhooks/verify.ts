import { createHash, createHmac } from 'node:crypto';
import { headerValue, type WebhookHeaders } from '../../../lib/webhooks/headers.js';
import { sameSignature } from '../../../lib/webhooks/compare.js';
import { rejected, verified, type VerifyResult } from '../../../lib/webhooks/verify-result.js';

/**
 * HubSpot's webhook signatures (developers.hubspot.com/docs/api/webhooks/validating-requests):
 * - v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256(client secret, method + URI + body +
 *   timestamp), `X-HubSpot-Request-Timestamp` in epoch ms, rejected after 5 minutes;
 * - v1 (legacy Webhooks API, private apps): `X-HubSpot-Signature` = hex SHA-256(secret + body),
 *   with `X-HubSpot-Signature-Version: v1`. It signs no timestamp, so a captured request can be
 *   replayed forever: off unless asked for.
 */

export interface HubSpotVerifyInput {
  /** The request method as received (`POST`). */
  method: string;
  /**
   * The full public URI HubSpot called, as received: scheme, host, path and query
   * (`https://hooks.example.com/webhooks/hubspot?portal=1`). Behind a proxy, the public one: the
   * signature covers what HubSpot called, not what the gateway listens on.
   */
  uri: string;
  rawBody: Buffer;
  headers: WebhookHeaders;
}

export interface HubSpotVerifyOptions {
  /** The app's client secrets: usually one, two while a rotated secret is phased out. */
  secrets: readonly string[];
  /** Accept a v1 signature when the request carries no v3 one. @default false */
  acceptV1?: boolean;
  /** How old (or how far ahead) a v3 timestamp may be. @default 300000 (HubSpot's 5 minutes) */
  toleranceMs?: number;
  /** The current time in epoch ms. @default Date.now() */
  now?: number;
}

export const HUBSPOT_TOLERANCE_MS = 300_000;

/**
 * The twelve escapes HubSpot decodes before signing, and only those (`%20`, `%26`, `%3D`, `%25`
 * stay as sent). One pass, case-insensitive: `%253A` is `%25` followed by `3A`, not `%3A`.
 */
const SIGNED_URI_ESCAPES = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

/** The URI as HubSpot signs it: the request URI with HubSpot's listed escapes decoded. */
export function hubSpotSignedUri(uri: string): string {
  return uri.replace(SIGNED_URI_ESCAPES, (_escape, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function verifyHubSpot(input: HubSpotVerifyInput, options: HubSpotVerifyOptions): VerifyResult {
  if (options.secrets.length === 0) throw new TypeError('verifyHubSpot needs at least one client secret');
  const v3 = headerValue(input.headers, 'x-hubspot-signature-v3');
  if (v3 !== undefined) return verifyV3(input, v3, options);

  const legacy = headerValue(input.headers, 'x-hubspot-signature');
  if (legacy === undefined) return rejected('missing-signature');
  const version = headerValue(input.headers, 'x-hubspot-signature-version')?.toLowerCase() ?? 'v1';
  // v2 (workflow actions, CRM cards) never signs webhooks subscriptions: not ours to accept.
  if (version !== 'v1' || options.acceptV1 !== true) return rejected('unsupported-version');
  const received = legacy.trim().toLowerCase();
  for (const secret of options.secrets) {
    const expected = createHash('sha256').update(secret, 'utf8').update(input.rawBody).digest('hex');
    if (sameSignature(received, expected)) return verified;
  }
  return rejected('bad-signature');
}

function verifyV3(input: HubSpotVerifyInput, signature: string, options: HubSpotVerifyOptions): VerifyResult {
  const timestamp = headerValue(input.headers, 'x-hubspot-request-timestamp');
  if (timestamp === undefined) return rejected('missing-timestamp');
  if (!/^\d{1,16}$/.test(timestamp)) return rejected('bad-timestamp');
  const age = (options.now ?? Date.now()) - Number(timestamp);
  const tolerance = options.toleranceMs ?? HUBSPOT_TOLERANCE_MS;
  if (age > tolerance) return rejected('stale');
  // HubSpot's SDK only checks age; a timestamp far ahead would stay replayable for that long.
  if (-age > tolerance) return rejected('future');

  const uri = hubSpotSignedUri(input.uri);
  for (const secret of options.secrets) {
    const expected = createHmac('sha256', secret)
      .update(input.method, 'utf8')
      .update(uri, 'utf8')
      .update(input.rawBody)
      .update(timestamp, 'utf8')
      .digest('base64');
    if (sameSignature(signature.trim(), expected)) return verified;
  }
  return rejected('bad-signature');
}
