/** What the emitter signs with: one secret per platform, as the gateway is configured to verify. */
export interface WebhookSecrets {
  /** HubSpot app client secret (v3 HMAC, and the legacy v1 hash it also sends). */
  hubspot: string;
  /** Shopify app client secret (`X-Shopify-Hmac-Sha256`). */
  shopify: string;
  /** The secret in the Mailchimp webhook URL's query (`?secret=`). */
  mailchimp: string;
  /** The site's Standard Webhooks secret, `whsec_<base64>`. */
  site: string;
}
