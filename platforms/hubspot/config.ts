import { env } from '../../lib/config/env.js';

/** HubSpot configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const hubspotConfig = {
  HUBSPOT_WEBHOOK_SECRETS: env.secretList({
    description:
      'HubSpot app client secret(s) that sign `/webhooks/hubspot` (v3 signatures); unset turns the endpoint off.',
  }),
  HUBSPOT_WEBHOOK_V1: env.boolean({
    description:
      'Also accept legacy v1 HubSpot signatures (they sign no timestamp, so they can be replayed).',
    default: 'false',
  }),
  HUBSPOT_BASE_URL: env.url({
    description: 'HubSpot API base URL (`crm` subgraph).',
    default: 'https://api.hubapi.com',
  }),
  HUBSPOT_ACCESS_TOKEN: env.secret({
    description:
      'HubSpot private-app or OAuth access token, scopes `crm.objects.contacts.read crm.lists.read`.',
    required: true,
  }),
  HUBSPOT_RATE_LIMIT_PER_10S: env.int(1, 10_000, {
    description:
      "Requests per rolling 10 s the `crm` connector allows itself: HubSpot's limit for the app's plan (Free/Starter 100, Pro/Enterprise 190, public OAuth apps 110).",
    default: '100',
  }),
  HUBSPOT_TIME_ZONE: env.timeZone({
    description:
      "The HubSpot account's time zone: its daily API limit resets at midnight there, and until then the `crm` connector sends nothing once the limit is spent.",
    default: 'UTC',
  }),
  HUBSPOT_ACCOUNT_ID: env.string({
    description: 'HubSpot portal id; keys caches and limits so two accounts never share them.',
    default: 'default',
  }),
  HUBSPOT_SANDBOX_PORT: env.port({ description: 'Port of the HubSpot sandbox.', default: '4101' }),
} as const;
