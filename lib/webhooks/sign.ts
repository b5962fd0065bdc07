import { createHmac, randomBytes } from 'node:crypto';

/**
 * The signing half of Standard Webhooks (the company site's scheme), as a sender computes it: for
 * the demo traffic, tests and benchmarks. The gateway verifies with its own code
 * (standard-webhooks.ts), never with this, so a mistake here cannot hide the same mistake there. A
 * platform's own scheme is signed in its sandbox folder (`platforms/<name>/sandbox/sign.ts`).
 */

/** A request body as sent: the exact bytes (or their UTF-8 text) the signature covers. */
export type SignedBody = string | Uint8Array;

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
