import { createHash, timingSafeEqual } from 'node:crypto';
import { rejected, verified, type VerifyResult } from '../../../lib/webhooks/verify-result.js';

/**
 * Mailchimp signs nothing: its webhooks carry no signature and no timestamp. The documented defence
 * is an HTTPS URL with a secret in its query (`/webhooks/mailchimp?secret=…`), checked on every
 * request: the POSTs and the validator `GET` Mailchimp sends when the webhook is saved (which must
 * get a 200, and only a caller who knows the secret should get one).
 */

export interface MailchimpVerifyInput {
  /** The request's query string, parsed (`new URL(req.url, base).searchParams`). */
  query: URLSearchParams;
}

export interface MailchimpVerifyOptions {
  /**
   * The URL secrets: usually one; two while the webhook is re-registered with a new URL (the old
   * registration keeps firing until it is removed).
   */
  secrets: readonly string[];
}

/** The query parameter that carries the secret. */
export const MAILCHIMP_SECRET_PARAM = 'secret';

/** Mailchimp's user agent on the validator `GET` (POSTs say `MailChimp.com`). */
export const MAILCHIMP_VALIDATOR_USER_AGENT = 'MailChimp.com WebHook Validator';

export function verifyMailchimp(input: MailchimpVerifyInput, options: MailchimpVerifyOptions): VerifyResult {
  if (options.secrets.length === 0) throw new TypeError('verifyMailchimp needs at least one URL secret');
  const given = input.query.getAll(MAILCHIMP_SECRET_PARAM);
  // Two `secret` parameters would let a proxy and the gateway read different ones.
  if (given.length !== 1 || given[0] === undefined || given[0] === '') return rejected('missing-signature');
  // Digests are compared, not the strings: equal lengths always, so not even the length leaks.
  const received = digest(given[0]);
  for (const secret of options.secrets) {
    if (timingSafeEqual(received, digest(secret))) return verified;
  }
  return rejected('bad-signature');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
