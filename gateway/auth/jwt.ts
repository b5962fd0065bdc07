import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { isScope } from '../../lib/auth/scopes.js';
import { ConfigError } from '../../lib/config/env.js';
import type { Logger } from '../../lib/logger.js';
import type { ClientIdentity } from '../identity.js';

/**
 * OAuth 2.0 / OIDC access tokens (JWT) for user-context clients, checked against the issuer's
 * published keys. Only asymmetric algorithms: the verifying key is public, so an HMAC "signature"
 * made with the public key's bytes would be forgeable by anyone (the classic algorithm confusion).
 */

/** Asymmetric JWS algorithms that can be allowed; `none` and HS* never can. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

export interface AccessTokenVerifierOptions {
  /** Exact `iss` every token must carry. */
  issuer: string;
  /** `aud` every token must include. */
  audience: string;
  /** The issuer's JSON Web Key Set. */
  jwksUrl: string;
  /** Algorithms accepted; a symmetric one or `none` is a ConfigError. @default ['RS256', 'ES256', 'PS256', 'EdDSA'] */
  algorithms?: readonly string[];
  /** Clock skew tolerated on `exp` and `nbf`. @default 30 */
  clockToleranceSeconds?: number;
  /**
   * Least time between two key-set fetches caused by an unknown `kid`, so tokens naming made-up
   * keys cannot make the gateway hammer the issuer. @default 30000
   */
  jwksCooldownMs?: number;
  /** How long fetched keys are used before they are fetched again anyway. @default 600000 */
  jwksCacheMaxAgeMs?: number;
  /** Timeout of one key-set fetch. @default 5000 */
  jwksTimeoutMs?: number;
  /** Told once per scope name about scopes in tokens that this gateway does not know. @default none */
  logger?: Logger;
}

/** Why a token was refused. For logs and counters only: a client is told no more than "invalid". */
export type AccessTokenFailure =
  | 'malformed'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not-yet-valid'
  | 'claims'
  | 'jwks-unavailable';

export type AccessTokenVerification =
  { ok: true; identity: ClientIdentity } | { ok: false; reason: AccessTokenFailure };

export type AccessTokenVerifier = (token: string) => Promise<AccessTokenVerification>;

const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'PS256', 'EdDSA'];
const CLIENT_ID = /^[\w.:@|/+=-]{1,256}$/;
/** Bounds the memory spent remembering which unknown scopes were already logged. */
const MAX_REMEMBERED_SCOPES = 1000;

/**
 * The allowed list, or a ConfigError naming OIDC_ALGORITHMS. `none` and HS* are refused even when
 * configured on purpose: with a public key set they can only ever help a forger.
 */
export function checkAlgorithms(algorithms: readonly string[]): string[] {
  const list = [...new Set(algorithms.map((a) => a.trim()).filter(Boolean))];
  const problems: string[] = [];
  for (const alg of list) {
    if (alg.toLowerCase() === 'none' || /^hs\d+$/i.test(alg))
      problems.push(
        `OIDC_ALGORITHMS: "${alg}" is never accepted (unsigned or symmetric, forgeable with a public key); use ${DEFAULT_ALGORITHMS.join(', ')}`,
      );
    else if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))
      problems.push(
        `OIDC_ALGORITHMS: unknown algorithm "${alg}"; expected some of ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
      );
  }
  if (list.length === 0) problems.push('OIDC_ALGORITHMS: expected at least one algorithm');
  if (problems.length > 0) throw new ConfigError(problems);
  return list;
}

function failureOf(error: unknown): AccessTokenFailure {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'issuer';
    if (error.claim === 'aud') return 'audience';
    if (error.claim === 'nbf') return 'not-yet-valid';
    return 'claims';
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return 'unknown-key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return 'algorithm';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed';
  // A timeout, a refused connection, a non-200 answer or a key set that does not parse.
  return 'jwks-unavailable';
}

/** `scope` (space-separated, RFC 8693/9068), else `scp` (a list, or a string as some issuers send). */
function claimedScopes(payload: JWTPayload): string[] {
  const scope = payload['scope'];
  const scp = payload['scp'];
  if (typeof scope === 'string') return scope.split(/\s+/).filter(Boolean);
  if (typeof scp === 'string') return scp.split(/\s+/).filter(Boolean);
  return Array.isArray(scp) ? scp.filter((s): s is string => typeof s === 'string' && s !== '') : [];
}

function clientIdOf(payload: JWTPayload): string | undefined {
  for (const claim of ['client_id', 'azp', 'sub']) {
    const value = payload[claim];
    if (typeof value === 'string' && value !== '') return CLIENT_ID.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * A verifier for access tokens from one issuer. Keys come from the issuer's JWKS through jose's
 * remote key set: cached (`jwksCacheMaxAgeMs`), and fetched again when a token names a `kid` the
 * cache does not hold, at most once per `jwksCooldownMs`, so the issuer's key rotation just works.
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const algorithms = checkAlgorithms(options.algorithms ?? DEFAULT_ALGORITHMS);
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(options.jwksUrl);
  } catch {
    throw new ConfigError([`OIDC_JWKS_URL: expected a URL, got ${JSON.stringify(options.jwksUrl)}`]);
  }
  const keys = createRemoteJWKSet(jwksUrl, {
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.jwksTimeoutMs ?? 5_000,
  });
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms,
    clockTolerance: options.clockToleranceSeconds ?? 30,
    // A token without `exp` would never stop working.
    requiredClaims: ['exp'],
  };
  const reportedScopes = new Set<string>();

  const grantable = (scopes: string[], clientId: string): string[] => {
    const known = scopes.filter(isScope);
    for (const scope of scopes) {
      if (isScope(scope) || reportedScopes.has(scope) || reportedScopes.size >= MAX_REMEMBERED_SCOPES)
        continue;
      reportedScopes.add(scope);
      options.logger?.warn(
        { scope, clientId, issuer: options.issuer },
        'access token carries a scope this gateway does not know; it is ignored, not granted',
      );
    }
    return [...new Set(known)].sort();
  };

  return async (token) => {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    // Checked before any key lookup, so a token with a refused algorithm never causes a JWKS fetch.
    if (!alg || !algorithms.includes(alg)) return { ok: false, reason: 'algorithm' };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, verifyOptions));
    } catch (error) {
      return { ok: false, reason: failureOf(error) };
    }
    const clientId = clientIdOf(payload);
    if (!clientId) return { ok: false, reason: 'claims' };
    return {
      ok: true,
      identity: { id: clientId, scopes: grantable(claimedScopes(payload), clientId), via: 'jwt' },
    };
  };
}
