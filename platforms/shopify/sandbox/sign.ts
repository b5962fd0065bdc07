import { createHmac } from 'node:crypto';
import type { SignedBody } from '../../../lib/webhooks/sign.js';

/**
 * Shopify's signing half, as Shopify computes it: for the demo traffic, tests and benchmarks. The
 * gateway verifies with its own code (../webhooks/verify.ts), never with this.
 */

/** `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256(client secret, raw body). */
export function signShopify(secret: string, body: SignedBody): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}
