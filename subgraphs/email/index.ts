import {
  MailchimpConnector,
  mailchimpAccountId,
  mailchimpBaseUrl,
} from '../../platforms/mailchimp/client/connector.js';
import { catalog } from '../../platforms/catalog.js';
import { ConfigError, loadEnv } from '../../lib/config/env.js';
import { EMAIL_ENV } from './env.js';
import { registerSecret, type Logger } from '../../lib/logger.js';
import { clientSettings, DEFAULT_REQUEST_BUDGET_MS, recordCacheSetting } from '../kit/client-settings.js';
import { gatewayAuthFromEnv } from '../kit/gateway-auth.js';
import type { SharedSubgraphSettings } from '../kit/role.js';
import { buildSubgraphServer, type SubgraphServer } from '../kit/server.js';
import type { EmailContext } from './context.js';
import { createEmailLoaders } from './loaders.js';
import { resolvers } from './resolvers.js';

export { EMAIL_ENV } from './env.js';

export interface EmailSubgraphConfig extends SharedSubgraphSettings {
  mailchimp: {
    baseUrl: string;
    apiKey: string;
    listId: string;
    /** Simultaneous connections to Mailchimp (its cap per API key is 10). @default 10 */
    maxConnections?: number;
  };
}

/** Reads EMAIL_ENV; the base URL comes from the key's data centre unless MAILCHIMP_BASE_URL is set. */
export function emailConfigFromEnv(
  source: NodeJS.ProcessEnv = process.env,
): EmailSubgraphConfig & { port: number } {
  const env = loadEnv(catalog, EMAIL_ENV, source);
  let baseUrl = env.MAILCHIMP_BASE_URL;
  if (baseUrl === undefined) {
    try {
      baseUrl = mailchimpBaseUrl(env.MAILCHIMP_API_KEY);
    } catch (error) {
      // The same exit as any other bad variable, and the message never shows the key.
      const reason = error instanceof Error ? error.message : 'not a Mailchimp API key';
      throw new ConfigError([`MAILCHIMP_API_KEY: ${reason}`]);
    }
  }
  return {
    port: env.EMAIL_PORT,
    mailchimp: {
      baseUrl,
      apiKey: env.MAILCHIMP_API_KEY,
      listId: env.MAILCHIMP_LIST_ID,
      maxConnections: env.MAILCHIMP_MAX_CONNECTIONS,
    },
    upstreamTimeoutMs: env.UPSTREAM_TIMEOUT_MS,
    upstreamMaxRetries: env.UPSTREAM_MAX_RETRIES,
    auth: gatewayAuthFromEnv(env.GATEWAY_TOKEN_JWKS),
  };
}

/** Builds the `email` subgraph (Mailchimp): audience membership, engagement and sent campaigns. */
export function buildEmailSubgraph(config: EmailSubgraphConfig, logger: Logger): Promise<SubgraphServer> {
  registerSecret(config.mailchimp.apiKey);
  const { maxConnections, ...mailchimpSettings } = config.mailchimp;
  const accountId = mailchimpAccountId(mailchimpSettings.apiKey, mailchimpSettings.listId);
  const mailchimp = new MailchimpConnector({
    ...mailchimpSettings,
    ...clientSettings(config, logger),
    ...(maxConnections !== undefined ? { limits: { maxConnections } } : {}),
    ...recordCacheSetting(config, 'mailchimp', accountId),
  });
  return buildSubgraphServer<EmailContext>({
    name: 'email',
    resolvers,
    logger,
    auth: config.auth,
    requestBudgetMs: config.requestBudgetMs ?? DEFAULT_REQUEST_BUDGET_MS,
    context: (request) => ({ request, mailchimp, loaders: createEmailLoaders(mailchimp, request) }),
    invalidate: async (targets) => {
      for (const target of targets) if (target.email) await mailchimp.invalidateMember(target.email);
    },
    close: () => mailchimp.close(),
  });
}
