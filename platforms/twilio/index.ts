import { loadEnv } from '../../lib/config/env.js';
import { twilioActions } from './actions.js';
import { definePlatform, defineWebhookSource } from '../kit/descriptor.js';
import { defaultOf, seconds } from '../kit/docs.js';
import { CONSENT_SCAN_LIMIT } from './keywords.js';
import { TWILIO_DEFAULT_LIMITS } from './client/limits.js';
import { TWILIO_API_VERSION, TWILIO_OAUTH_SCOPES, type TwilioCredentials } from './client/protocol.js';
import { twilioConfig } from './config.js';
import { TWILIO_DEMO } from './demo.js';
import { normaliseTwilio } from './webhooks/normalise.js';
import { verifyTwilio } from './webhooks/verify.js';
import { TWILIO_API_VERSIONS } from './versions.js';

/**
 * The Twilio account's limits that differ by customer: concurrent requests (set per account), and
 * the sending rate and queue of its sender (a long code sends 1 segment per second, a short code
 * 100; a queue holds 10 hours' worth).
 */
export interface TwilioPlan {
  /** Requests in flight at once. @default 10 */
  concurrency?: number;
  /** Segments per second the sender sends. @default 1 */
  mps?: number;
  /** Messages the sender may hold queued. @default 36000 */
  queueLimit?: number;
}

/** What the `messaging` subgraph's client needs to reach Twilio (or its sandbox). */
export interface TwilioConnection {
  baseUrl: string;
  credentials: TwilioCredentials;
  from: string;
  maxConcurrent?: number;
}

const demo = TWILIO_DEMO.credentials;

const webhooks = defineWebhookSource<'twilio', readonly string[]>({
  name: 'twilio',
  config: { TWILIO_WEBHOOK_SECRETS: twilioConfig.TWILIO_WEBHOOK_SECRETS },
  secretVariable: 'TWILIO_WEBHOOK_SECRETS',
  ownSecret: "the Twilio account's auth token",
  fromEnv: (source, fallback) =>
    loadEnv(twilioConfig, ['TWILIO_WEBHOOK_SECRETS'], source).TWILIO_WEBHOOK_SECRETS ?? fallback,
  secretsOf: (secrets) => secrets,
  demoSecret: TWILIO_DEMO.webhookSecret,
  demo: [TWILIO_DEMO.webhookSecret],
  verify: (request, secrets) =>
    verifyTwilio(
      { uri: request.publicUri(), rawBody: request.rawBody, headers: request.headers },
      { secrets },
    ),
  normalise: normaliseTwilio,
  demoTraffic: async () => (await import('./sandbox/traffic.js')).TWILIO_TRAFFIC,
});

/** Twilio: SMS, the system of record for who may be texted and what was sent to whom. */
export const twilio = definePlatform({
  name: 'twilio',
  title: 'Twilio',
  config: twilioConfig,
  credential: {
    variable: 'TWILIO_API_KEY_SECRET',
    header: 'authorization',
    scopes: TWILIO_OAUTH_SCOPES,
    leastPrivilege:
      "Twilio has no OAuth scopes: the auth token acts for the whole account. Prefer an API key (`TWILIO_API_KEY_SID`, `TWILIO_API_KEY_SECRET`), which can be revoked alone, restricted to reading messages (and creating them where texts are sent); give it to the `messaging` subgraph only. Webhooks are signed with the account's auth token whatever key the client uses.",
  },
  webhooks,
  sandbox: {
    portVariable: 'TWILIO_SANDBOX_PORT',
    demoCredentials: demo,
    // Loaded on first use: a gateway or subgraph never builds a sandbox (issue 17, target 2).
    create: async (world, plan?: TwilioPlan) =>
      (await import('./sandbox/index.js')).createTwilioSandbox({
        world,
        accountSid: demo.accountSid,
        authToken: demo.authToken,
        apiKey: { sid: demo.apiKeySid, secret: demo.apiKeySecret },
        from: demo.from,
        messagingServiceSid: demo.messagingServiceSid,
        ...(plan?.concurrency !== undefined ? { maxConcurrent: plan.concurrency } : {}),
        ...(plan?.mps !== undefined ? { mps: plan.mps } : {}),
        ...(plan?.queueLimit !== undefined ? { queueLimit: plan.queueLimit } : {}),
      }),
    baseUrl: (origin) => `${origin}/${TWILIO_API_VERSION}`,
    connection: (origin, plan?: TwilioPlan): TwilioConnection => ({
      baseUrl: `${origin}/${TWILIO_API_VERSION}`,
      credentials: {
        accountSid: demo.accountSid,
        apiKeySid: demo.apiKeySid,
        apiKeySecret: demo.apiKeySecret,
      },
      from: demo.from,
      ...(plan?.concurrency !== undefined ? { maxConcurrent: plan.concurrency } : {}),
    }),
  },
  actions: twilioActions,
  apiVersions: TWILIO_API_VERSIONS,
  contract: async () => (await import('./contract.js')).twilioContract,
  docs: {
    role: 'SMS',
    subgraph: 'messaging',
    api: `Twilio Programmable Messaging, REST API ${TWILIO_API_VERSION} (messages: send, fetch, list)`,
    limits: [
      {
        published:
          'Concurrent REST API requests per account, at a level Twilio sets per account; beyond it `429` with code 20429, documented as never processed and safe to retry.',
        throttle: `At most \`TWILIO_MAX_CONCURRENT\` (${defaultOf(twilioConfig.TWILIO_MAX_CONCURRENT)}) calls in flight, held together by the processes sharing a Redis (\`REDIS_URL\`); a 429 holds new calls for ${seconds(TWILIO_DEFAULT_LIMITS.holdAfter429Ms)}. Reads are retried; a send only after a 429 (Twilio has no idempotency key, so a send that timed out is never repeated).`,
        variables: ['TWILIO_MAX_CONCURRENT'],
      },
      {
        published:
          "Each sender's queue: a long code sends 1 segment per second, a short code 100; a queue holds 10 hours' worth, beyond which a send is refused (21611) or, through a Messaging Service, fails (30001).",
        throttle: `Not throttled by the client: queueing is Twilio's, and shows in message statuses and status callbacks. Consent reads at most ${CONSENT_SCAN_LIMIT} inbound messages per number.`,
        variables: [],
      },
    ],
    webhook: {
      source: 'twilio',
      signature:
        "`X-Twilio-Signature`: base64 HMAC-SHA1 (the account's auth token) of the full URL Twilio called followed by every POST parameter's name and value, sorted by name. The URL checked is `WEBHOOK_PUBLIC_URL`'s, else the `X-Forwarded-Proto` / `X-Forwarded-Host` of a proxy in `TRUSTED_PROXIES`, else the address the gateway was reached on (with and without the default port, as Twilio's libraries do).",
      replay:
        'Twilio signs no timestamp: redeliveries are deduplicated on the message SID and its status (status callbacks) or the message SID (incoming messages), both in the signed parameters.',
      variables: ['TWILIO_WEBHOOK_SECRETS', 'WEBHOOK_PUBLIC_URL', 'TRUSTED_PROXIES'],
      subscribe:
        "status callbacks (the `StatusCallback` of each message sent) and the sender's incoming-message webhook",
      described: "The SMS platform's webhooks (Twilio).",
      becomes: {
        SMS_SENT: "A text message to a customer left the sender's queue for the carrier.",
        SMS_DELIVERED: "The carrier reports a text message delivered to the customer's handset.",
        SMS_FAILED:
          'A text message to a customer failed or could not be delivered (`properties.errorCode` says why).',
        SMS_RECEIVED:
          "A customer texted the company's number; `properties.optOut` is true for STOP and the other opt-out keywords, false for START, YES or UNSTOP.",
      },
    },
  },
});
