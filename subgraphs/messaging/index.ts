import { ConfigError, loadEnv } from '../../lib/config/env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { apiVersionRecord } from '../../lib/upstream/api-version.js';
import { catalog } from '../../platforms/catalog.js';
import { TwilioConnector } from '../../platforms/twilio/client/connector.js';
import { basicPair, type TwilioCredentials } from '../../platforms/twilio/client/protocol.js';
import { clientSettings, DEFAULT_REQUEST_BUDGET_MS } from '../kit/client-settings.js';
import { gatewayAuthFromEnv } from '../kit/gateway-auth.js';
import type { SharedSubgraphSettings } from '../kit/role.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { MessagingContext } from './context.js';
import { MESSAGING_ENV } from './env.js';
import { createMessagingLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { MESSAGING_ENV } from './env.js';

export interface MessagingSubgraphConfig extends Omit<SharedSubgraphSettings, 'cache'> {
  twilio: {
    /** `https://api.twilio.com/2010-04-01`. */
    baseUrl: string;
    credentials: TwilioCredentials;
    /** The sender customers receive texts from and reply to. */
    from: string;
    /** Requests in flight at once. @default 10 */
    maxConcurrent?: number;
  };
}

/**
 * Reads MESSAGING_ENV. The client authenticates with an API key when one is set (it can be revoked
 * alone), else with the auth token; one of the two is required.
 */
export function messagingConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): MessagingSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, MESSAGING_ENV, source);
  const {
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_API_KEY_SID: keySid,
    TWILIO_API_KEY_SECRET: keySecret,
  } = env;
  if ((keySid === undefined) !== (keySecret === undefined))
    throw new ConfigError(['TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET: set both or neither']);
  let credentials: TwilioCredentials;
  if (keySid !== undefined && keySecret !== undefined)
    credentials = { accountSid, apiKeySid: keySid, apiKeySecret: keySecret };
  else if (env.TWILIO_AUTH_TOKEN !== undefined)
    credentials = { accountSid, authToken: env.TWILIO_AUTH_TOKEN };
  else
    throw new ConfigError([
      'TWILIO_AUTH_TOKEN: required unless TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET are set, expected a secret of at least 8 characters',
    ]);
  return {
    port: env.MESSAGING_PORT,
    twilio: {
      baseUrl: env.TWILIO_BASE_URL,
      credentials,
      from: env.TWILIO_FROM,
      maxConcurrent: env.TWILIO_MAX_CONCURRENT,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    auth: gatewayAuthFromEnv(env.GATEWAY_TOKEN_JWKS),
  };
}

/**
 * Builds the `messaging` subgraph (Twilio): a customer's SMS consent and recent texts. Nothing is
 * cached: consent must be current when someone decides whether to text a customer.
 */
export function buildMessagingSubgraph(
  config: MessagingSubgraphConfig,
  logger: Logger,
): Promise<SubgraphServer> {
  registerSecret(basicPair(config.twilio.credentials)[1]);
  const { maxConcurrent, ...twilioSettings } = config.twilio;
  const twilio = new TwilioConnector({
    ...twilioSettings,
    ...clientSettings(config, logger),
    ...(maxConcurrent !== undefined ? { limits: { maxConcurrent } } : {}),
  });
  return buildSubgraphServer<MessagingContext>({
    name: 'messaging',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? DEFAULT_REQUEST_BUDGET_MS,
    context: (request) => ({ request, twilio, loaders: createMessagingLoaders(twilio, request) }),
    healthDetails: () => Promise.resolve({ twilio: { apiVersion: apiVersionRecord('twilio') ?? null } }),
    close: () => twilio.close(),
  });
}
