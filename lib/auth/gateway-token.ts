import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { z } from 'zod';

/**
 * The caller's identity as it travels from the gateway to a subgraph: a short-lived JWT signed by
 * the gateway (EdDSA), with the subgraph as audience and the client's scopes. A subgraph trusts
 * nothing else, so reaching it directly on the network gives nothing away; only the gateway holds
 * the private key, so a compromised subgraph cannot mint tokens for another.
 */

export const GATEWAY_ISSUER = 'marketing-graph-gateway';
export const GATEWAY_TOKEN_ALGORITHM = 'EdDSA';

export interface Caller {
  clientId: string;
  scopes: readonly string[];
}

const privateJwk = z
  .object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string().min(1),
    d: z.string().min(1),
    kid: z.string().min(1),
  })
  .loose();
const publicJwks = z.object({
  keys: z
    .array(
      z
        .object({
          kty: z.literal('OKP'),
          crv: z.literal('Ed25519'),
          x: z.string().min(1),
          kid: z.string().min(1),
        })
        .loose(),
    )
    .min(1),
});

export function parsePrivateJwk(text: string): JWK {
  try {
    return privateJwk.parse(JSON.parse(text)) as JWK;
  } catch {
    throw new Error('GATEWAY_TOKEN_PRIVATE_JWK must be a private Ed25519 JWK in JSON with a kid');
  }
}

export function parsePublicJwks(text: string): JSONWebKeySet {
  try {
    return publicJwks.parse(JSON.parse(text)) as JSONWebKeySet;
  } catch {
    throw new Error('GATEWAY_TOKEN_JWKS must be a JSON Web Key Set of public Ed25519 keys, each with a kid');
  }
}

/** The public key set of a private JWK: what an in-process subgraph needs to check its tokens. */
export function publicJwksOf(privateKey: JWK): JSONWebKeySet {
  const { kty, crv, x, kid } = privateKey;
  return { keys: [{ kty, crv, x, kid, alg: GATEWAY_TOKEN_ALGORITHM, use: 'sig' } as JWK & { kty: string }] };
}

/** A fresh key pair: the private JWK for the gateway and the public set for the subgraphs. */
export async function generateGatewayKeys(
  kid = `gw-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 8)}`,
): Promise<{ privateJwk: JWK; publicJwks: JSONWebKeySet }> {
  const { privateKey, publicKey } = await generateKeyPair(GATEWAY_TOKEN_ALGORITHM, {
    crv: 'Ed25519',
    extractable: true,
  });
  const priv = { ...(await exportJWK(privateKey)), kid, alg: GATEWAY_TOKEN_ALGORITHM };
  const pub = { ...(await exportJWK(publicKey)), kid, alg: GATEWAY_TOKEN_ALGORITHM, use: 'sig' };
  return { privateJwk: priv, publicJwks: { keys: [pub] } };
}

/**
 * Signs caller tokens and reuses each one until shortly before it expires, so a busy gateway signs
 * once per client, scope set and subgraph every `ttlSeconds - 10` seconds, not once per fetch.
 */
export class GatewayTokenSigner {
  private key: Promise<CryptoKey | Uint8Array> | undefined;
  private readonly cache = new Map<string, { token: string; refreshAt: number }>();

  constructor(
    private readonly jwk: JWK,
    /** @default 60 */
    private readonly ttlSeconds = 60,
  ) {}

  async tokenFor(audience: string, caller: Caller): Promise<string> {
    const scope = [...caller.scopes].sort().join(' ');
    const cacheKey = `${audience}\n${caller.clientId}\n${scope}`;
    const now = Date.now();
    const cached = this.cache.get(cacheKey);
    if (cached && cached.refreshAt > now) return cached.token;
    this.key ??= importJWK(this.jwk, GATEWAY_TOKEN_ALGORITHM);
    const token = await new SignJWT({ scope })
      .setProtectedHeader({ alg: GATEWAY_TOKEN_ALGORITHM, kid: this.jwk.kid ?? 'gateway', typ: 'JWT' })
      .setIssuer(GATEWAY_ISSUER)
      .setAudience(audience)
      .setSubject(caller.clientId)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(await this.key);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(cacheKey, { token, refreshAt: now + Math.max(1, this.ttlSeconds - 10) * 1000 });
    return token;
  }
}

/** What a subgraph uses to check the gateway token on every request. */
export function createGatewayTokenVerifier(options: {
  jwks: JSONWebKeySet;
  audience: string;
}): (token: string) => Promise<Caller> {
  const keys = createLocalJWKSet(options.jwks);
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: [GATEWAY_TOKEN_ALGORITHM],
      issuer: GATEWAY_ISSUER,
      audience: options.audience,
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    const scope = typeof payload['scope'] === 'string' ? payload['scope'] : '';
    return { clientId: payload.sub ?? 'unknown', scopes: scope.split(' ').filter(Boolean) };
  };
}
