import { loadEnv } from '../../lib/config/env.js';
import { eraseSyncDestination } from '../kit/sync.js';
import { mailchimpSync } from './sync.js';
import { mailchimpActions } from './actions.js';
import { definePlatform, defineWebhookSource } from '../kit/descriptor.js';
import { defaultOf, seconds } from '../kit/docs.js';
import { MAILCHIMP_DEFAULT_LIMITS } from './client/limits.js';
import { MAILCHIMP_OAUTH_SCOPES } from './client/protocol.js';
import { mailchimpConfig } from './config.js';
import { MAILCHIMP_DEMO } from './demo.js';
import { normaliseMailchimp } from './webhooks/normalise.js';
import { MAILCHIMP_SECRET_PARAM, verifyMailchimp } from './webhooks/verify.js';
import { MAILCHIMP_API_VERSIONS } from './versions.js';

/** Mailchimp's limits are the same on every plan (10 connections per API key). */
export type MailchimpPlan = Record<string, never>;

/** What the `email` subgraph's client needs to reach Mailchimp (or its sandbox). */
export interface MailchimpConnection {
  baseUrl: string;
  apiKey: string;
  listId: string;
}

const webhooks = defineWebhookSource<'mailchimp', readonly string[]>({
  name: 'mailchimp',
  config: { MAILCHIMP_WEBHOOK_SECRETS: mailchimpConfig.MAILCHIMP_WEBHOOK_SECRETS },
  secretVariable: 'MAILCHIMP_WEBHOOK_SECRETS',
  ownSecret: 'a random secret for the URL registered with Mailchimp',
  fromEnv: (source, fallback) =>
    loadEnv(mailchimpConfig, ['MAILCHIMP_WEBHOOK_SECRETS'], source).MAILCHIMP_WEBHOOK_SECRETS ?? fallback,
  secretsOf: (secrets) => secrets,
  demoSecret: MAILCHIMP_DEMO.webhookSecret,
  demo: [MAILCHIMP_DEMO.webhookSecret],
  verify: (request, secrets) => verifyMailchimp({ query: request.url.searchParams }, { secrets }),
  normalise: normaliseMailchimp,
  demoTraffic: async () => (await import('./sandbox/traffic.js')).MAILCHIMP_TRAFFIC,
  validatesWithGet: true,
});

/** Mailchimp: email, the system of record for who may be emailed and how they engage. */
export const mailchimp = definePlatform({
  name: 'mailchimp',
  title: 'Mailchimp',
  config: mailchimpConfig,
  credential: {
    variable: 'MAILCHIMP_API_KEY',
    header: 'authorization',
    scopes: MAILCHIMP_OAUTH_SCOPES,
    leastPrivilege:
      "Mailchimp has no OAuth scopes: an API key (or OAuth token) acts with its user's role. Create the key as a user with the least role that can read the audience and reports, and give it to the `email` subgraph only.",
  },
  webhooks,
  sync: eraseSyncDestination(mailchimpSync),
  sandbox: {
    portVariable: 'MAILCHIMP_SANDBOX_PORT',
    demoCredentials: MAILCHIMP_DEMO.credentials,
    // Loaded on first use: a gateway or subgraph never builds a sandbox (issue 17, target 2).
    create: async (world, _plan?: MailchimpPlan) =>
      (await import('./sandbox/index.js')).createMailchimpSandbox({
        world,
        apiKey: MAILCHIMP_DEMO.credentials.apiKey,
        listId: MAILCHIMP_DEMO.credentials.listId,
      }),
    baseUrl: (origin) => `${origin}/3.0`,
    connection: (origin, _plan?: MailchimpPlan): MailchimpConnection => ({
      baseUrl: `${origin}/3.0`,
      apiKey: MAILCHIMP_DEMO.credentials.apiKey,
      listId: MAILCHIMP_DEMO.credentials.listId,
    }),
  },
  actions: mailchimpActions,
  apiVersions: MAILCHIMP_API_VERSIONS,
  contract: async () => (await import('./contract.js')).mailchimpContract,
  docs: {
    role: 'email',
    subgraph: 'email',
    api: 'Mailchimp Marketing API 3.0 (audience members, campaigns, reports)',
    limits: [
      {
        published: mailchimpConfig.MAILCHIMP_MAX_CONNECTIONS.description,
        throttle: `At most \`MAILCHIMP_MAX_CONNECTIONS\` (${defaultOf(mailchimpConfig.MAILCHIMP_MAX_CONNECTIONS)}) calls in flight, held together by the processes sharing a Redis (\`REDIS_URL\`). Mailchimp sends no limit headers, so a 429 lowers the cap to the calls still in flight and holds new calls for ${seconds(MAILCHIMP_DEFAULT_LIMITS.holdAfter429Ms)}; the cap climbs back by one per ${seconds(MAILCHIMP_DEFAULT_LIMITS.recoverAfterMs)} without a 429. Writes (\`connector.writes\`, for actions and syncs) share the cap at background priority: they start only when no read waits and leave one connection in ten to reads.`,
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
      described: "The email platform's webhooks (Mailchimp).",
      becomes: {
        EMAIL_SUBSCRIBED: 'Someone subscribed to the email audience.',
        EMAIL_UNSUBSCRIBED: 'Someone unsubscribed from the email audience.',
        EMAIL_CLEANED: 'An address was removed from the email audience after bounces or complaints.',
        CONTACT_UPDATED: "A contact's properties changed in the CRM.",
        EMAIL_CAMPAIGN_SENT: 'An email campaign was sent.',
      },
    },
  },
});
