/**
 * Mailchimp signs nothing: the webhook URL registered with it carries the secret in its query. The
 * gateway checks it with its own code (../webhooks/verify.ts), never with this.
 */
export function withMailchimpSecret(url: string, secret: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('secret', secret);
  return parsed.toString();
}
