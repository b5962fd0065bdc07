import { catalog } from '../../platforms/catalog.js';
import { ConfigError, loadEnv } from '../../lib/config/env.js';
import { checkAlgorithms, type AccessTokenVerifierOptions } from './jwt.js';

/** The variables the gateway reads to identify callers. */
export const AUTH_ENV = [
  'NODE_ENV',
  'CLIENTS_FILE',
  'OIDC_ISSUER',
  'OIDC_AUDIENCE',
  'OIDC_JWKS_URL',
  'OIDC_ALGORITHMS',
  'OIDC_CLOCK_TOLERANCE_S',
] as const;

export interface AuthConfig {
  mode: 'development' | 'production' | 'test';
  /** The client registry (JSON or YAML). */
  clientsFile: string;
  /** Access-token checks; absent when OIDC_ISSUER is unset, which turns JWTs off. */
  accessTokens?: Omit<AccessTokenVerifierOptions, 'logger'>;
}

/**
 * Reads and checks the variables. OIDC is all or nothing: an issuer without an audience or a key
 * set (or the reverse) is a ConfigError, not a silently disabled check.
 */
export function authConfigFromEnv(source: NodeJS.ProcessEnv = process.env): AuthConfig {
  const env = loadEnv(catalog, AUTH_ENV, source);
  const base = { mode: env.NODE_ENV, clientsFile: env.CLIENTS_FILE };
  const oidc = {
    OIDC_ISSUER: env.OIDC_ISSUER,
    OIDC_AUDIENCE: env.OIDC_AUDIENCE,
    OIDC_JWKS_URL: env.OIDC_JWKS_URL,
  };
  const missing = Object.entries(oidc)
    .filter(([, value]) => value === undefined)
    .map(([name]) => name);
  if (missing.length === 3) return base;
  if (missing.length > 0)
    throw new ConfigError(
      missing.map(
        (name) =>
          `${name}: required when any of OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL is set (all three, or none to turn JWTs off)`,
      ),
    );
  const { OIDC_ISSUER: issuer, OIDC_AUDIENCE: audience, OIDC_JWKS_URL: jwksUrl } = oidc;
  if (issuer === undefined || audience === undefined || jwksUrl === undefined) return base;
  return {
    ...base,
    accessTokens: {
      // `iss` is compared as an exact string and many issuers end it with a slash, which the
      // catalog's URL parsing strips; the value as the operator wrote it is the one to match.
      issuer: source['OIDC_ISSUER']?.trim() ?? issuer,
      audience,
      jwksUrl,
      algorithms: checkAlgorithms(env.OIDC_ALGORITHMS.split(',')),
      clockToleranceSeconds: env.OIDC_CLOCK_TOLERANCE_S,
    },
  };
}
