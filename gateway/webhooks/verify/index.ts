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
