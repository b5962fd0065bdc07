import { createHmac } from 'node:crypto';

/**
 * `X-Twilio-Signature` as Twilio computes it: base64 HMAC-SHA1, keyed by the auth token, over the
 * URL called followed by every parameter's name and value, sorted by name. Written here from
 * Twilio's description, apart from the gateway's verifier (../webhooks/verify.ts), so a mistake in
 * one does not hide the same mistake in the other.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const signed = Object.keys(params)
    .sort()
    .reduce((text, name) => `${text}${name}${params[name] ?? ''}`, url);
  return createHmac('sha1', authToken).update(signed, 'utf8').digest('base64');
}

/** The headers of a webhook Twilio posts: a form body, signed for the URL it is posted to. */
export function twilioWebhookHeaders(
  authToken: string,
  url: string,
  params: Record<string, string>,
): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-twilio-signature': twilioSignature(authToken, url, params),
    'user-agent': 'TwilioProxy/1.1',
  };
}
