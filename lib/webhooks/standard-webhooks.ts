import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { headerValue, type WebhookHeaders } from './headers.js';
import { sameSignature } from './compare.js';
import { rejected, verified, type VerifyResult } from './verify-result.js';

/**
 * Standard Webhooks v1 (standardwebhooks.com), the scheme the company's own site signs with:
 * `webhook-signature` holds space-separated `v1,<base64>` entries (several while keys rotate),
 * each an HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${raw body}` keyed with the bytes of a
 * `whsec_<base64>` secret; `webhook-timestamp` is Unix seconds, accepted within ±5 minutes.
 */

export interface StandardWebhookVerifyInput {
  rawBody: Buffer;
  headers: WebhookHeaders;
}

export interface StandardWebhookVerifyOptions {
  /** `whsec_<base64>` secrets: usually one, more while keys rotate. */
  secrets: readonly string[];
  /** How far from now the timestamp may be, either way. @default 300 (the spec libraries' 5 minutes) */
  toleranceSeconds?: number;
  /** The current time in epoch ms. @default Date.now() */
  now?: number;
}

export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A `whsec_` secret as config accepts it: the prefix, then base64 of 24 to 64 random bytes. */
export const standardWebhookSecretSchema = z
  .string()
  .refine((secret) => standardWebhookKeyOrNull(secret) !== null, {
    message: 'a Standard Webhooks secret is `whsec_` followed by the base64 of 24 to 64 bytes',
  });

function standardWebhookKeyOrNull(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

/** The HMAC key a `whsec_` secret stands for. Throws on a malformed secret: that is a config bug. */
export function standardWebhookKey(secret: string): Buffer {
  const key = standardWebhookKeyOrNull(secret);
  if (!key)
    throw new TypeError('a Standard Webhooks secret is `whsec_` followed by the base64 of 24 to 64 bytes');
  return key;
}

/**
 * The base64 HMAC-SHA256 a `v1,` entry carries: of `${id}.${timestamp}.` and then the raw body,
 * keyed with the secret's bytes (`standardWebhookKey`). What the verifier compares against and
 * what outgoing deliveries sign with (deliveries/signing.ts), so the two cannot drift apart; tests
 * check both against the official `standardwebhooks` library.
 */
export function standardWebhookDigest(
  key: Buffer,
  id: string,
  timestamp: string | number,
  body: string | Uint8Array,
): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest('base64');
}

export function verifyStandardWebhook(
  input: StandardWebhookVerifyInput,
  options: StandardWebhookVerifyOptions,
): VerifyResult {
  if (options.secrets.length === 0) throw new TypeError('verifyStandardWebhook needs at least one secret');
  const keys = options.secrets.map(standardWebhookKey);
  const id = headerValue(input.headers, 'webhook-id');
  const timestamp = headerValue(input.headers, 'webhook-timestamp');
  const signature = headerValue(input.headers, 'webhook-signature');
  if (signature === undefined || signature.trim() === '') return rejected('missing-signature');
  if (id === undefined || id === '') return rejected('missing-id');
  if (timestamp === undefined || timestamp === '') return rejected('missing-timestamp');
  if (!/^\d{1,12}$/.test(timestamp)) return rejected('bad-timestamp');

  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? STANDARD_WEBHOOKS_TOLERANCE_SECONDS;
  const seconds = Number(timestamp);
  if (now - seconds > tolerance) return rejected('stale');
  if (seconds > now + tolerance) return rejected('future');

  // Unknown versions (`v1a` ed25519, future ones) are skipped, as the spec asks.
  const candidates = signature
    .split(' ')
    .map((entry) => entry.split(','))
    .flatMap(([version, value]) => (version === 'v1' && value ? [value] : []));
  if (candidates.length === 0) return rejected('unsupported-version');

  for (const key of keys) {
    const expected = standardWebhookDigest(key, id, timestamp, input.rawBody);
    if (candidates.some((candidate) => sameSignature(candidate, expected))) return verified;
  }
  return rejected('bad-signature');
}
