import { loadEnv } from '../../lib/config/env.js';
import { eraseSyncDestination } from '../kit/sync.js';
import { hubspotSync } from './sync.js';
import { hubspotActions } from './actions.js';
import { definePlatform, defineWebhookSource } from '../kit/descriptor.js';
import { defaultOf, seconds } from '../kit/docs.js';
import { HUBSPOT_DEFAULT_LIMITS } from './client/limits.js';
import { HUBSPOT_OAUTH_SCOPES } from './client/protocol.js';
import { hubspotConfig } from './config.js';
import { HUBSPOT_DEMO } from './demo.js';
import { HUBSPOT_MAX_BATCH, normaliseHubSpot } from './webhooks/normalise.js';
import { HUBSPOT_TOLERANCE_MS, verifyHubSpot } from './webhooks/verify.js';
import { HUBSPOT_API_VERSIONS } from './versions.js';

/** The HubSpot app's plan: requests per rolling 10 s (Free/Starter 100, Pro/Enterprise 190). */
export interface HubSpotPlan {
  per10s?: number;
}

/** What the `crm` subgraph's client needs to reach HubSpot (or its sandbox). */
export interface HubSpotConnection {
  baseUrl: string;
  accessToken: string;
  accountId: string;
  ratePer10s?: number;
}

export interface HubSpotWebhookSecrets {
  secrets: readonly string[];
  /** Also accept legacy v1 signatures (no timestamp: replayable). */
  acceptV1?: boolean;
}

const webhooks = defineWebhookSource<'hubspot', HubSpotWebhookSecrets>({
  name: 'hubspot',
  config: {
    HUBSPOT_WEBHOOK_SECRETS: hubspotConfig.HUBSPOT_WEBHOOK_SECRETS,
    HUBSPOT_WEBHOOK_V1: hubspotConfig.HUBSPOT_WEBHOOK_V1,
  },
  secretVariable: 'HUBSPOT_WEBHOOK_SECRETS',
  ownSecret: "the HubSpot app's client secret",
  fromEnv(source, fallback) {
    const env = loadEnv(hubspotConfig, ['HUBSPOT_WEBHOOK_SECRETS', 'HUBSPOT_WEBHOOK_V1'], source);
    const secrets = env.HUBSPOT_WEBHOOK_SECRETS ?? fallback?.secrets;
    return secrets ? { secrets, acceptV1: env.HUBSPOT_WEBHOOK_V1 } : undefined;
  },
  secretsOf: (configured) => configured.secrets,
  demoSecret: HUBSPOT_DEMO.webhookSecret,
  demo: { secrets: [HUBSPOT_DEMO.webhookSecret] },
  verify: (request, configured) =>
    verifyHubSpot(
      {
        method: request.method,
        uri: request.publicUri(),
        rawBody: request.rawBody,
        headers: request.headers,
      },
      { secrets: configured.secrets, acceptV1: configured.acceptV1 ?? false },
    ),
  normalise: normaliseHubSpot,
  demoTraffic: async () => (await import('./sandbox/traffic.js')).HUBSPOT_TRAFFIC,
});

/** HubSpot: the CRM, the system of record for who a customer is. */
export const hubspot = definePlatform({
  name: 'hubspot',
  title: 'HubSpot',
  config: hubspotConfig,
  credential: {
    variable: 'HUBSPOT_ACCESS_TOKEN',
    header: 'authorization',
    scopes: HUBSPOT_OAUTH_SCOPES,
    leastPrivilege:
      "Read scopes only: the `crm` subgraph reads contacts and list memberships and never calls the connector's writes (those, for actions and syncs, also need `crm.objects.contacts.write`). A private-app token or an OAuth access token works.",
  },
  webhooks,
  sync: eraseSyncDestination(hubspotSync),
  sandbox: {
    portVariable: 'HUBSPOT_SANDBOX_PORT',
    demoCredentials: HUBSPOT_DEMO.credentials,
    // Loaded on first use: a gateway or subgraph never builds a sandbox (issue 17, target 2).
    create: async (world, plan?: HubSpotPlan) =>
      (await import('./sandbox/index.js')).createHubSpotSandbox({
        world,
        accessToken: HUBSPOT_DEMO.credentials.accessToken,
        ...(plan?.per10s !== undefined ? { tenSecondLimit: plan.per10s } : {}),
      }),
    baseUrl: (origin) => origin,
    connection: (origin, plan?: HubSpotPlan): HubSpotConnection => ({
      baseUrl: origin,
      accessToken: HUBSPOT_DEMO.credentials.accessToken,
      accountId: HUBSPOT_DEMO.credentials.accountId,
      ...(plan?.per10s !== undefined ? { ratePer10s: plan.per10s } : {}),
    }),
  },
  actions: hubspotActions,
  apiVersions: HUBSPOT_API_VERSIONS,
  contract: async () => (await import('./contract.js')).hubspotContract,
  docs: {
    role: 'CRM',
    subgraph: 'crm',
    api: 'HubSpot CRM API v3 (contacts, lists)',
    limits: [
      {
        published: hubspotConfig.HUBSPOT_RATE_LIMIT_PER_10S.description,
        throttle: `A rolling window of \`HUBSPOT_RATE_LIMIT_PER_10S\` (${defaultOf(hubspotConfig.HUBSPOT_RATE_LIMIT_PER_10S)}) requests per 10 s, corrected by \`X-HubSpot-RateLimit-Max\` / \`-Remaining\` on every answer (another app spending the same budget shows up there); a 429 marks the window full. Batch reads wait longer to fill as the window fills. Writes (\`connector.writes\`: batch update and upsert, one call per 100 contacts, and notes) share the window and the daily limit at background priority: they start only when no read waits and leave a tenth of the window to reads.`,
        variables: ['HUBSPOT_RATE_LIMIT_PER_10S'],
      },
      {
        published: `CRM search: ${HUBSPOT_DEFAULT_LIMITS.searchPerSecond} requests per second, answers without rate-limit headers.`,
        throttle: `Search calls queue behind their own rolling window of ${HUBSPOT_DEFAULT_LIMITS.searchPerSecond} per second, which processes sharing a Redis (\`REDIS_URL\`) spend together.`,
        variables: [],
      },
      {
        published:
          'A daily limit per account (250,000 calls and up by plan), reset at midnight in the account time zone; its 429 says `policyName: DAILY`.',
        throttle: `A \`DAILY\` 429 (or \`X-HubSpot-RateLimit-Daily-Remaining: 0\`) holds every call until midnight in \`HUBSPOT_TIME_ZONE\` (${defaultOf(hubspotConfig.HUBSPOT_TIME_ZONE)}): calls fail at once with \`UPSTREAM_RATE_LIMITED\` (\`upstreamCode: DAILY\`, \`resetsAt\`) without reaching HubSpot, and the \`crm\` subgraph's \`/health\` says when the limit resets.`,
        variables: ['HUBSPOT_TIME_ZONE'],
      },
    ],
    webhook: {
      source: 'hubspot',
      signature: `\`X-HubSpot-Signature-v3\`: base64 HMAC-SHA256 (app client secret) of method + URI + body + \`X-HubSpot-Request-Timestamp\`; legacy v1 (hex SHA-256 of secret + body) only with \`HUBSPOT_WEBHOOK_V1=true\`. The URI checked is \`WEBHOOK_PUBLIC_URL\`'s, else the \`X-Forwarded-Proto\` / \`X-Forwarded-Host\` of a proxy in \`TRUSTED_PROXIES\`, else the address the gateway was reached on; never the request's \`Host\` header.`,
      replay: `Timestamps older or further ahead than ${seconds(HUBSPOT_TOLERANCE_MS)} are refused; redeliveries are deduplicated on event id + subscription + time, all three in the signed body. Up to ${HUBSPOT_MAX_BATCH} events per request.`,
      variables: ['HUBSPOT_WEBHOOK_SECRETS', 'HUBSPOT_WEBHOOK_V1', 'WEBHOOK_PUBLIC_URL', 'TRUSTED_PROXIES'],
      subscribe:
        '`contact.creation`, `contact.propertyChange`, `contact.deletion`, `contact.privacyDeletion`',
      described: "The CRM's webhooks (HubSpot).",
      becomes: {
        CONTACT_CREATED: 'A contact was created in the CRM.',
        CONTACT_UPDATED: "A contact's properties changed in the CRM.",
        CONTACT_DELETED: 'A contact was deleted from the CRM.',
      },
    },
  },
});
