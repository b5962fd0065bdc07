/**
 * Each source's signature check. A replay is stopped by deduplication, so each dedupe key is built
 * only from what that source's signature covers (a header outside it can be rewritten on a
 * captured request):
 * - HubSpot: event id + subscription id + occurredAt, from the body, which v3 and v1 sign;
 * - Shopify: a SHA-256 of the body, the only thing its HMAC covers (not `X-Shopify-Event-Id`);
 * - Mailchimp: signs nothing; a hash of the body's fields, behind the URL secret;
 * - the site (Standard Webhooks): `webhook-id`, which the signature covers with the timestamp;
 * - Meta: sends the gateway no webhooks (its ads data is read on demand), so there is no key.
 */
export { hubSpotSignedUri, verifyHubSpot, HUBSPOT_TOLERANCE_MS } from './hubspot.js';
export type { HubSpotVerifyInput, HubSpotVerifyOptions } from './hubspot.js';
export { MAILCHIMP_SECRET_PARAM, MAILCHIMP_VALIDATOR_USER_AGENT, verifyMailchimp } from './mailchimp.js';
export type { MailchimpVerifyInput, MailchimpVerifyOptions } from './mailchimp.js';
export { verifyShopify, type ShopifyVerifyInput, type ShopifyVerifyOptions } from './shopify.js';
export {
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  standardWebhookKey,
  standardWebhookSecretSchema,
  verifyStandardWebhook,
} from './standard-webhooks.js';
export type { StandardWebhookVerifyInput, StandardWebhookVerifyOptions } from './standard-webhooks.js';
export type { VerifyFailureReason, VerifyResult } from './result.js';
