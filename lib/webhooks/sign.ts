import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The signing half of each platform's webhook scheme, as the platform computes it: for the
 * sandboxes' webhook emitter, tests and benchmarks. The gateway verifies with its own code
 * (platforms/<name>/webhooks/verify.ts), never with this, so a mistake here cannot hide the same mistake there.
 */

/** A request body as sent: the exact bytes (or their UTF-8 text) the signature covers. */
export type SignedBody = string | Uint8Array;

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

/** `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256(client secret, raw body). */
export function signShopify(secret: string, body: SignedBody): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

export interface StandardWebhookSignInput {
  /** `whsec_<base64 key>`. */
  secret: string;
  /** `webhook-id`: stable across retries of one message. */
  id: string;
  /** `webhook-timestamp`: Unix seconds of this attempt. */
  timestamp: number;
  body: SignedBody;
}

/** One `webhook-signature` entry, `v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>`. */
export function signStandardWebhook(input: StandardWebhookSignInput): string {
  const encoded = input.secret.startsWith('whsec_') ? input.secret.slice('whsec_'.length) : input.secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new TypeError('a Standard Webhooks secret needs a non-empty base64 key');
  const digest = createHmac('sha256', key)
    .update(`${input.id}.${input.timestamp}.`, 'utf8')
    .update(input.body)
    .digest('base64');
  return `v1,${digest}`;
}

/** A fresh `whsec_` secret of `bytes` random bytes. @default bytes 32 (the spec allows 24 to 64) */
export function generateStandardWebhookSecret(bytes = 32): string {
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}

/** Mailchimp signs nothing: the webhook URL registered with it carries the secret in its query. */
export function withMailchimpSecret(url: string, secret: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('secret', secret);
  return parsed.toString();
}
