import { createHmac } from 'node:crypto';
import { headerValue, type WebhookHeaders } from '../../../lib/webhooks/headers.js';
import { sameSignature } from '../../../lib/webhooks/compare.js';
import { rejected, verified, type VerifyResult } from '../../../lib/webhooks/verify-result.js';

/**
 * Shopify's webhook signature: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256(app client secret, raw
 * body bytes). It covers no timestamp and no header, so replays are caught by deduplication on a
 * SHA-256 of the signed body (normalise/shopify.ts), never on `X-Shopify-Event-Id`: a header the
 * signature does not cover can be changed on a captured request.
 */

export interface ShopifyVerifyInput {
  rawBody: Buffer;
  headers: WebhookHeaders;
}

export interface ShopifyVerifyOptions {
  /**
   * The app's client secrets. After a rotation Shopify may keep signing with the old secret for up
   * to an hour, so list the new and the old one until then.
   */
  secrets: readonly string[];
}

export function verifyShopify(input: ShopifyVerifyInput, options: ShopifyVerifyOptions): VerifyResult {
  if (options.secrets.length === 0) throw new TypeError('verifyShopify needs at least one client secret');
  const signature = headerValue(input.headers, 'x-shopify-hmac-sha256');
  if (signature === undefined || signature.trim() === '') return rejected('missing-signature');
  for (const secret of options.secrets) {
    const expected = createHmac('sha256', secret).update(input.rawBody).digest('base64');
    if (sameSignature(signature.trim(), expected)) return verified;
  }
  return rejected('bad-signature');
}
