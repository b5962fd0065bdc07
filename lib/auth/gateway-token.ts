import { createHash, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { z } from 'zod';

/**
 * The caller's identity as it travels from the gateway to a subgraph: a short-lived JWT signed by
 * the gateway (EdDSA) for one request, with the subgraph as audience and the client's scopes. A subgraph trusts
 * nothing else, so reaching it directly on the network gives nothing away; only the gateway holds
 * the private key, so a compromised subgraph cannot mint tokens for another.
 */

export const GATEWAY_ISSUER = 'marketing-graph-gateway';
export const GATEWAY_TOKEN_ALGORITHM = 'EdDSA';

export interface Caller {
  clientId: string;
  scopes: readonly string[];
  /**
   * Key fields the query planner added to this fetch for a join (the token's `planned` claim):
   * readable for the join without the field's own scopes. Empty for anything else.
   */
  planned?: ReadonlySet<string>;
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

/** A gateway token lives this long at most; a subgraph refuses one that claims a longer life. */
export const GATEWAY_TOKEN_MAX_LIFE_SECONDS = 30;
/** Clock skew a subgraph tolerates between its clock and the gateway's. */
export const GATEWAY_TOKEN_CLOCK_TOLERANCE_SECONDS = 5;

/** SHA-256 of a request body, base64url: the `bh` claim that binds a token to one request. */
export function bodyHash(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('base64url');
}

/** What one token is for, besides the caller: the fetch it travels with. */
export interface TokenBinding {
  /**
   * Key fields (`Type.field`) the query planner added to this fetch to join entities, which the
   * client's operation does not select: the subgraph lets the gateway read them for the join even
   * when the caller may not see them.
   */
  planned?: readonly string[];
  /** The exact request body the token travels with; the subgraph refuses the token with any other. */
  body?: string;
  /**
   * The registered client a system caller reads for (the `obo` claim): a `worker` enriching a
   * webhook reads as the endpoint's owner, whose scopes the gateway looks up itself.
   */
  onBehalfOf?: string;
}

/**
 * Signs one token per request: the subgraph as audience, a life of at most 30 s, a unique `jti`
 * the subgraph remembers until the token expires (so a captured token cannot be replayed), the
 * caller's scopes, and what binds it to its fetch (`planned`, `bh`). A token is never reused, so
 * this signs once per subgraph fetch: with node:crypto's Ed25519 directly (a compact JWS any JOSE
 * library verifies), about four times cheaper than going through WebCrypto.
 */
export class GatewayTokenSigner {
  private readonly key: KeyObject;
  private readonly header: string;

  constructor(
    jwk: JWK,
    /** @default 30 */
    private readonly ttlSeconds = GATEWAY_TOKEN_MAX_LIFE_SECONDS,
  ) {
    if (!(ttlSeconds > 0 && ttlSeconds <= GATEWAY_TOKEN_MAX_LIFE_SECONDS))
      throw new Error(`a gateway token lives 1 to ${GATEWAY_TOKEN_MAX_LIFE_SECONDS} s, not ${ttlSeconds}`);
    this.key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
    this.header = base64url({ alg: GATEWAY_TOKEN_ALGORITHM, kid: jwk.kid ?? 'gateway', typ: 'JWT' });
  }

  async tokenFor(audience: string, caller: Caller, binding: TokenBinding = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      scope: [...caller.scopes].sort().join(' '),
      ...(binding.planned && binding.planned.length > 0 ? { planned: [...binding.planned].sort() } : {}),
      ...(binding.body !== undefined ? { bh: bodyHash(binding.body) } : {}),
      ...(binding.onBehalfOf !== undefined ? { obo: binding.onBehalfOf } : {}),
      iss: GATEWAY_ISSUER,
      aud: audience,
      sub: caller.clientId,
      // 122 random bits from node's batched entropy: one `randomBytes` call per token was 1.4% of the
      // gateway's CPU on distinct requests (a dozen subgraph fetches per operation).
      jti: randomUUID(),
      iat: now,
      exp: now + this.ttlSeconds,
    };
    const signingInput = `${this.header}.${base64url(claims)}`;
    return `${signingInput}.${sign(null, Buffer.from(signingInput), this.key).toString('base64url')}`;
  }
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A token that verified: who it is for, and what the subgraph must still check against the request. */
export interface VerifiedGatewayToken {
  caller: Caller;
  /** `jti`: the subgraph accepts it once. */
  tokenId: string;
  /** `exp`, seconds since the epoch: how long the subgraph must remember `tokenId`. */
  expiresAt: number;
  /** `bh`: the hash of the only body the token may travel with, when the gateway bound one. */
  bodyHash: string | undefined;
  /** `obo`: the registered client a system caller reads for, when it names one. */
  onBehalfOf: string | undefined;
}

const claimsSchema = z.object({
  scope: z.string().max(4_000).optional(),
  jti: z.string().min(16).max(128),
  iat: z.number(),
  exp: z.number(),
  planned: z.array(z.string().max(200)).max(200).optional(),
  bh: z.string().max(100).optional(),
  obo: z.string().min(1).max(200).optional(),
});

/** Why a token that jose accepted is still refused. */
export class GatewayTokenClaimsError extends Error {
  readonly code = 'ERR_GATEWAY_TOKEN_CLAIMS';
}

/** What a subgraph uses to check the gateway token on every request. */
export function createGatewayTokenVerifier(options: {
  jwks: JSONWebKeySet;
  audience: string;
}): (token: string) => Promise<VerifiedGatewayToken> {
  const keys = createLocalJWKSet(options.jwks);
  return async (token) => {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: [GATEWAY_TOKEN_ALGORITHM],
      issuer: GATEWAY_ISSUER,
      audience: options.audience,
      clockTolerance: GATEWAY_TOKEN_CLOCK_TOLERANCE_SECONDS,
      // An `iat` in the future, or further back than a token may live, is refused here.
      maxTokenAge: `${GATEWAY_TOKEN_MAX_LIFE_SECONDS}s`,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new GatewayTokenClaimsError('claims do not match the gateway token shape');
    const { scope = '', jti, iat, exp, planned = [], bh, obo } = claims.data;
    // The replay cache remembers each token until it expires, so its life is what bounds it.
    if (exp - iat > GATEWAY_TOKEN_MAX_LIFE_SECONDS)
      throw new GatewayTokenClaimsError(
        `lives ${exp - iat} s, more than ${GATEWAY_TOKEN_MAX_LIFE_SECONDS} s`,
      );
    return {
      caller: {
        clientId: payload.sub ?? 'unknown',
        scopes: scope.split(' ').filter(Boolean),
        planned: new Set(planned),
      },
      tokenId: jti,
      expiresAt: exp,
      bodyHash: bh,
      onBehalfOf: obo,
    };
  };
}
