import type { Platform } from '../lib/errors.js';
import { HTTP_LIMITS_ENV } from '../lib/server/limits.js';

/**
 * The variables the CLI's own commands read, apart from the commands' code so `--help` lists them
 * without loading a server. (The gateway's, the subgraphs' and the shared loaders' lists live
 * beside their loaders.)
 */

/** What `start` reads itself; it also reads AUTH_ENV, CACHE_ENV and EVENTS_ENV through their loaders. */
export const START_ENV = [
  'HOST',
  'NODE_ENV',
  'PORT',
  'SUPERGRAPH_FILE',
  'SUBGRAPH_TIMEOUT_MS',
  'REQUEST_DEADLINE_MS',
  'REQUEST_DEADLINE_MAX_MS',
  'CRM_PORT',
  'EMAIL_PORT',
  'COMMERCE_PORT',
  'ADS_PORT',
  'UPSTREAM_TIMEOUT_MS',
  'UPSTREAM_MAX_RETRIES',
  'HUBSPOT_SANDBOX_PORT',
  'MAILCHIMP_SANDBOX_PORT',
  'SHOPIFY_SANDBOX_PORT',
  'META_SANDBOX_PORT',
  'SANDBOX_SEED',
  'SANDBOX_CUSTOMERS',
  'SANDBOX_ANCHOR_DATE',
  'SANDBOX_RATE_LIMITS',
  'SANDBOX_LATENCY_MS',
  'RESPONSE_CACHE',
  'AUTHORIZATION_MODE',
  'SUBSCRIPTIONS_PER_CONNECTION',
  'SUBSCRIPTIONS_PER_CLIENT',
  'SANDBOX_WEBHOOKS_PER_MINUTE',
  ...HTTP_LIMITS_ENV,
] as const;

/** Each sandbox's port variable; its keys are the platforms `sandbox <platform>` knows. */
export const SANDBOX_PORT_VARIABLE = {
  hubspot: 'HUBSPOT_SANDBOX_PORT',
  mailchimp: 'MAILCHIMP_SANDBOX_PORT',
  shopify: 'SHOPIFY_SANDBOX_PORT',
  meta: 'META_SANDBOX_PORT',
} as const;

/** The variables `sandbox <platform>` reads: its own port, and the generated data's settings. */
export function sandboxEnv<P extends Platform>(platform: P) {
  return [
    'HOST',
    SANDBOX_PORT_VARIABLE[platform],
    'SANDBOX_SEED',
    'SANDBOX_CUSTOMERS',
    'SANDBOX_ANCHOR_DATE',
    'SANDBOX_RATE_LIMITS',
    'SANDBOX_LATENCY_MS',
    'SANDBOX_WEBHOOK_TARGET',
    ...HTTP_LIMITS_ENV,
  ] as const;
}
