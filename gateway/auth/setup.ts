import type { Logger } from '../../lib/logger.js';
import { createAuthenticator, type Authenticator } from './authenticate.js';
import type { AuthConfig } from './config.js';
import { createAccessTokenVerifier } from './jwt.js';
import { assertNoDemoKeys } from './production-guard.js';
import { LiveClientRegistry } from './live-registry.js';
import { loadClientRegistry } from './registry.js';

export interface AuthenticationSetup {
  authenticate: Authenticator;
  /**
   * The registry, for what else keys on a client (its rate limit). It reloads the file once
   * `registry.watch()` is called; the gateway does, and stops watching when it stops.
   */
  registry: LiveClientRegistry;
}

/**
 * Everything the gateway needs to identify callers, checked at start-up: the registry loads and
 * validates, production holds no demo key, and the OIDC settings are sound. Any problem throws a
 * ConfigError, so the gateway exits with code 2 before it listens.
 */
export function setUpAuthentication(config: AuthConfig, logger: Logger): AuthenticationSetup {
  const registry = loadClientRegistry(config.clientsFile);
  assertNoDemoKeys(registry, config.mode);
  const accessTokens =
    config.accessTokens &&
    createAccessTokenVerifier({ ...config.accessTokens, logger: logger.child({ component: 'auth' }) });
  const demo = registry.demoKeys().map((k) => k.clientId);
  logger.info(
    {
      clientsFile: config.clientsFile,
      clients: registry.clients.length,
      accessTokens: config.accessTokens ? { issuer: config.accessTokens.issuer } : 'off',
      ...(demo.length > 0 ? { demoClients: demo } : {}),
    },
    demo.length > 0
      ? 'callers identified by API key or access token; the public demo keys are accepted (not in production)'
      : 'callers identified by API key or access token',
  );
  const live = new LiveClientRegistry({
    initial: registry,
    path: config.clientsFile,
    mode: config.mode,
    logger: logger.child({ component: 'auth' }),
  });
  return {
    authenticate: createAuthenticator({ registry: live, ...(accessTokens ? { accessTokens } : {}) }),
    registry: live,
  };
}
