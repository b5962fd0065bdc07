import { createHmac } from 'node:crypto';
import { sameSignature } from '../../../lib/webhooks/compare.js';
import { headerValue, type WebhookHeaders } from '../../../lib/webhooks/headers.js';
import { rejected, verified, type VerifyResult } from '../../../lib/webhooks/verify-result.js';

/**
 * Twilio's webhook signature (twilio.com/docs/usage/security#validating-requests):
 * `X-Twilio-Signature` = base64 HMAC-SHA1(auth token, full URL + each POST parameter's name and
 * value, sorted by name, concatenated without separators). It covers the URL Twilio called, so
 * behind a proxy the public URL counts, never the gateway's own; and no timestamp, so replays are
 * caught by deduplication on what the signature covers (normalise.ts).
 */

export interface TwilioVerifyInput {
  /**
   * The full public URL Twilio called, scheme, host, path and query as sent
   * (`https://hooks.example.com/webhooks/twilio?x=1`): what was registered with Twilio.
   */
  uri: string;
  /** The form-encoded body as received. */
  rawBody: Buffer;
  headers: WebhookHeaders;
}

export interface TwilioVerifyOptions {
  /** The account's auth tokens: the primary, and the secondary while one is rotated out. */
  secrets: readonly string[];
}

/** `scheme://authority` and the rest of a URL, split as text (parsing would re-encode the path). */
const URL_PARTS = /^(https?:)\/\/([^/?#]+)(.*)$/i;

/**
 * The URL as signed, and the same URL with its port left out (or, without one, with the scheme's
 * default written out): Twilio's own helper libraries accept both, because Twilio's signing is not
 * consistent about ports. Host, path and query must match either way.
 */
function signedUrls(uri: string): string[] {
  const parts = URL_PARTS.exec(uri);
  if (!parts) return [uri];
  const [, scheme = '', authority = '', rest = ''] = parts;
  const port = /^(.*?)(?::(\d+))?$/.exec(authority);
  const host = port?.[1] ?? authority;
  const alternative = port?.[2]
    ? `${scheme}//${host}${rest}`
    : `${scheme}//${host}:${scheme.toLowerCase() === 'https:' ? 443 : 80}${rest}`;
  return [uri, alternative];
}

/**
 * The signed text after the URL: every parameter, names sorted, each name followed by its value; a
 * repeated name contributes each distinct value in sorted order, as Twilio's libraries sign it.
 */
function signedParameters(rawBody: Buffer): string {
  const values = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    const set = values.get(name) ?? new Set<string>();
    set.add(value);
    values.set(name, set);
  }
  return [...values.keys()]
    .sort()
    .map((name) =>
      [...(values.get(name) ?? [])]
        .sort()
        .map((value) => `${name}${value}`)
        .join(''),
    )
    .join('');
}

export function verifyTwilio(input: TwilioVerifyInput, options: TwilioVerifyOptions): VerifyResult {
  if (options.secrets.length === 0) throw new TypeError('verifyTwilio needs at least one auth token');
  const signature = headerValue(input.headers, 'x-twilio-signature')?.trim();
  if (signature === undefined || signature === '') return rejected('missing-signature');
  // A Webhooks Rule signs with a shared key and another algorithm: not what this endpoint is set up for.
  if (headerValue(input.headers, 'x-twilio-webhooks-signature-settings') !== undefined)
    return rejected('unsupported-version');
  const parameters = signedParameters(input.rawBody);
  for (const secret of options.secrets) {
    for (const url of signedUrls(input.uri)) {
      const expected = createHmac('sha1', secret).update(`${url}${parameters}`, 'utf8').digest('base64');
      if (sameSignature(signature, expected)) return verified;
    }
  }
  return rejected('bad-signature');
}
