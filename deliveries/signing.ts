import { standardWebhookDigest, standardWebhookKey } from '../lib/webhooks/standard-webhooks.js';

/** The headers of one attempt, Standard Webhooks v1. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs one attempt: `webhook-timestamp` is this attempt's time in Unix seconds (a retry is signed
 * afresh, so a receiver's 5-minute tolerance holds hours later), and `webhook-signature` has one
 * `v1,` entry per active secret, the newest first, so during a rotation receivers holding either
 * secret verify it.
 */
export function signatureHeaders(
  messageId: string,
  nowMs: number,
  body: string,
  secrets: readonly string[],
): SignatureHeaders {
  if (secrets.length === 0) throw new TypeError('an endpoint needs at least one active secret to sign with');
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': secrets
      .map((secret) => `v1,${standardWebhookDigest(standardWebhookKey(secret), messageId, timestamp, body)}`)
      .join(' '),
  };
}
