import { HUBSPOT_DEFAULT_LIMITS } from '../../connectors/hubspot/limits.js';
import { HUBSPOT_OAUTH_SCOPES } from '../../connectors/hubspot/protocol.js';
import { MAILCHIMP_DEFAULT_LIMITS } from '../../connectors/mailchimp/limits.js';
import { MAILCHIMP_OAUTH_SCOPES } from '../../connectors/mailchimp/protocol.js';
import { META_DEFAULT_LIMITS } from '../../connectors/meta/limits.js';
import { META_OAUTH_SCOPES } from '../../connectors/meta/protocol.js';
import { SHOPIFY_OAUTH_SCOPES } from '../../connectors/shopify/protocol.js';
import {
  HUBSPOT_TOLERANCE_MS,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
} from '../../gateway/webhooks/verify/index.js';
import { MAILCHIMP_SECRET_PARAM } from '../../gateway/webhooks/verify/mailchimp.js';
import { HUBSPOT_MAX_BATCH } from '../../gateway/webhooks/normalise/hubspot.js';
import { catalog, type CatalogName } from '../../lib/config/catalog.js';
import type { Platform } from '../../lib/errors.js';
import type { EventSource, EventType } from '../../lib/events/event.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';

/**
 * What the data-flow document says about each platform that is not in the SDL: its credentials,
 * the limits it publishes and how the connector keeps to them, and the webhooks it pushes. Every
 * number comes from the code that enforces it (connector limits, catalog defaults, verifier
 * tolerances); the prose around the numbers is written here, once.
 */

export interface Credential {
  /** The catalog variable holding the credential. */
  variable: CatalogName;
  /** The upstream OAuth scopes the credential needs, from the connector. */
  scopes: readonly string[];
  /** Why these scopes and no more, or what replaces scopes on this platform. */
  leastPrivilege: string;
}

export interface LimitRow {
  /** The platform's published limit, in words. */
  published: string;
  /** How the connector keeps to it. */
  throttle: string;
  /** Catalog variables that tune it. */
  variables: readonly CatalogName[];
}

export interface WebhookFlow {
  source: EventSource;
  /** Header(s) and construction of the signature. */
  signature: string;
  /** What is done against replays. */
  replay: string;
  /** The catalog variables holding the secrets, and any switches. */
  variables: readonly CatalogName[];
  /** Platform topics or types to subscribe to. */
  subscribe: string;
  /** The event types the normaliser turns them into. */
  becomes: readonly EventType[];
}

export interface PlatformDoc {
  platform: Platform;
  title: string;
  role: string;
  subgraph: PlatformSubgraphName;
  api: string;
  credential: Credential;
  limits: readonly LimitRow[];
  webhook?: WebhookFlow;
}

const value = (name: CatalogName): string => {
  const entry = catalog[name];
  return 'default' in entry && entry.default !== undefined ? entry.default : 'unset';
};

const seconds = (ms: number) => `${ms / 1000} s`;

export const PLATFORM_DOCS: readonly PlatformDoc[] = [
  {
    platform: 'hubspot',
    title: 'HubSpot',
    role: 'CRM',
    subgraph: 'crm',
    api: 'HubSpot CRM API v3 (contacts, lists)',
    credential: {
      variable: 'HUBSPOT_ACCESS_TOKEN',
      scopes: HUBSPOT_OAUTH_SCOPES,
      leastPrivilege:
        'Read scopes only: the connector reads contacts and list memberships and writes nothing. A private-app token or an OAuth access token works.',
    },
    limits: [
      {
        published: catalog.HUBSPOT_RATE_LIMIT_PER_10S.description,
        throttle: `A rolling window of \`HUBSPOT_RATE_LIMIT_PER_10S\` (${value('HUBSPOT_RATE_LIMIT_PER_10S')}) requests per 10 s, corrected by \`X-HubSpot-RateLimit-Max\` / \`-Remaining\` on every answer (another app spending the same budget shows up there); a 429 marks the window full. Batch reads wait longer to fill as the window fills.`,
        variables: ['HUBSPOT_RATE_LIMIT_PER_10S'],
      },
      {
        published: `CRM search: ${HUBSPOT_DEFAULT_LIMITS.searchPerSecond} requests per second, answers without rate-limit headers.`,
        throttle: `Search calls queue behind their own window of ${HUBSPOT_DEFAULT_LIMITS.searchPerSecond} per second.`,
        variables: [],
      },
      {
        published:
          'A daily limit per account (250,000 calls and up by plan), reset at midnight in the account time zone; its 429 says `policyName: DAILY`.',
        throttle: `A \`DAILY\` 429 (or \`X-HubSpot-RateLimit-Daily-Remaining: 0\`) holds every call until midnight in \`HUBSPOT_TIME_ZONE\` (${value('HUBSPOT_TIME_ZONE')}): calls fail at once with \`UPSTREAM_RATE_LIMITED\` (\`upstreamCode: DAILY\`, \`resetsAt\`) without reaching HubSpot, and the \`crm\` subgraph's \`/health\` says when the limit resets.`,
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
      becomes: ['CONTACT_CREATED', 'CONTACT_UPDATED', 'CONTACT_DELETED'],
    },
  },
  {
    platform: 'mailchimp',
    title: 'Mailchimp',
    role: 'email',
    subgraph: 'email',
    api: 'Mailchimp Marketing API 3.0 (audience members, campaigns, reports)',
    credential: {
      variable: 'MAILCHIMP_API_KEY',
      scopes: MAILCHIMP_OAUTH_SCOPES,
      leastPrivilege:
        "Mailchimp has no OAuth scopes: an API key (or OAuth token) acts with its user's role. Create the key as a user with the least role that can read the audience and reports, and give it to the `email` subgraph only.",
    },
    limits: [
      {
        published: catalog.MAILCHIMP_MAX_CONNECTIONS.description,
        throttle: `At most \`MAILCHIMP_MAX_CONNECTIONS\` (${value('MAILCHIMP_MAX_CONNECTIONS')}) calls in flight. Mailchimp sends no limit headers, so a 429 lowers the cap to the calls still in flight and holds new calls for ${seconds(MAILCHIMP_DEFAULT_LIMITS.holdAfter429Ms)}; the cap climbs back by one per ${seconds(MAILCHIMP_DEFAULT_LIMITS.recoverAfterMs)} without a 429.`,
        variables: ['MAILCHIMP_MAX_CONNECTIONS'],
      },
    ],
    webhook: {
      source: 'mailchimp',
      signature: `None: Mailchimp signs nothing. The registered URL carries a secret, \`?${MAILCHIMP_SECRET_PARAM}=<secret>\`, checked in constant time on every POST and on Mailchimp's validator GET.`,
      replay:
        'Mailchimp sends no delivery id and no timestamp: redeliveries are recognised by their content (type, time fired, list, address, fields). Use HTTPS so the URL secret stays secret.',
      variables: ['MAILCHIMP_WEBHOOK_SECRETS'],
      subscribe: 'subscribes, unsubscribes, cleaned addresses, profile and email changes, campaign sends',
      becomes: [
        'EMAIL_SUBSCRIBED',
        'EMAIL_UNSUBSCRIBED',
        'EMAIL_CLEANED',
        'CONTACT_UPDATED',
        'EMAIL_CAMPAIGN_SENT',
      ],
    },
  },
  {
    platform: 'shopify',
    title: 'Shopify',
    role: 'commerce',
    subgraph: 'commerce',
    api: 'Shopify Admin REST API (customers, orders, shop)',
    credential: {
      variable: 'SHOPIFY_ACCESS_TOKEN',
      scopes: SHOPIFY_OAUTH_SCOPES,
      leastPrivilege:
        'Read scopes only. `read_all_orders` because with `read_orders` alone Shopify shows only the last 60 days of orders; without it, fields that need older orders answer `UPSTREAM_DATA_WITHHELD` (`reason: READ_ALL_ORDERS_SCOPE_MISSING`) and `/health` lists the missing scope. The app also needs level 2 protected customer data access: without it Shopify redacts email and name, no customer can be matched by email, and the commerce fields answer `UPSTREAM_DATA_WITHHELD` (`reason: PROTECTED_CUSTOMER_DATA`).',
    },
    limits: [
      {
        published: `${catalog.SHOPIFY_BUCKET_SIZE.description} ${catalog.SHOPIFY_LEAK_PER_S.description}`,
        throttle: `A leaky bucket of \`SHOPIFY_BUCKET_SIZE\` (${value('SHOPIFY_BUCKET_SIZE')}) draining \`SHOPIFY_LEAK_PER_S\` (${value('SHOPIFY_LEAK_PER_S')}) calls per second, corrected by \`X-Shopify-Shop-Api-Call-Limit\` (it counts every app of the store); a 429's \`Retry-After\` holds every queued call.`,
        variables: ['SHOPIFY_BUCKET_SIZE', 'SHOPIFY_LEAK_PER_S'],
      },
    ],
    webhook: {
      source: 'shopify',
      signature:
        '`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 (app client secret) of the raw body. It signs no timestamp.',
      replay:
        'Redeliveries and replays are deduplicated on a SHA-256 of the signed body, never on the unsigned `X-Shopify-Event-Id`: a captured body sent again under a new id is stored once.',
      variables: ['SHOPIFY_WEBHOOK_SECRETS'],
      subscribe: '`orders/create`, `customers/create`',
      becomes: ['ORDER_PLACED', 'CUSTOMER_CREATED'],
    },
  },
  {
    platform: 'meta',
    title: 'Meta',
    role: 'ads',
    subgraph: 'ads',
    api: 'Meta Marketing API, Ads Insights (campaign level)',
    credential: {
      variable: 'META_ACCESS_TOKEN',
      scopes: META_OAUTH_SCOPES,
      leastPrivilege:
        'A system-user token with `ads_read` on the one ad account (`META_AD_ACCOUNT_ID`), never `ads_management`: the connector only reads insights.',
    },
    limits: [
      {
        published: catalog.META_INSIGHTS_CALLS_PER_HOUR.description,
        throttle: `Insights calls queue behind a rolling hour of \`META_INSIGHTS_CALLS_PER_HOUR\` (${value('META_INSIGHTS_CALLS_PER_HOUR')}; connector default ${META_DEFAULT_LIMITS.insightsPerHour}), corrected by the usage percentage in \`X-Business-Use-Case-Usage\`; \`estimated_time_to_regain_access\` holds every insights call until then; a throttling error without usage headers marks the hour spent.`,
        variables: ['META_INSIGHTS_CALLS_PER_HOUR'],
      },
    ],
  },
];

/** The company's own site: no subgraph and no platform API, only signed webhooks into the event log. */
export const SITE_WEBHOOK: WebhookFlow = {
  source: 'site',
  signature:
    '[Standard Webhooks](https://www.standardwebhooks.com/) `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries over `webhook-id.webhook-timestamp.body`, keyed with a `whsec_` secret.',
  replay: `Timestamps more than ${STANDARD_WEBHOOKS_TOLERANCE_SECONDS} s away are refused; redeliveries are deduplicated on \`webhook-id\`, which the signature covers.`,
  variables: ['SITE_WEBHOOK_SECRETS'],
  subscribe: '`form.submitted`, `page.viewed`',
  becomes: ['FORM_SUBMITTED', 'PAGE_VIEWED'],
};
