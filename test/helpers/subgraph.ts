import { generateGatewayKeys, GATEWAY_ISSUER, GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import type { PlatformName as Platform } from '../../platforms/registry.js';
import type { PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { Logger } from '../../lib/logger.js';
import { listen } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { World } from '../../sandboxes/world/world.js';
import { buildAdsSubgraph } from '../../subgraphs/ads/index.js';
import { buildCommerceSubgraph } from '../../subgraphs/commerce/index.js';
import { buildCrmSubgraph } from '../../subgraphs/crm/index.js';
import { buildEmailSubgraph } from '../../subgraphs/email/index.js';
import { buildMessagingSubgraph } from '../../subgraphs/messaging/index.js';
import { ROLE_DECLARATIONS } from '../../subgraphs/registry.js';
import type { SubgraphAuth } from '../../subgraphs/kit/gateway-auth.js';
import type { ReplayCache } from '../../subgraphs/kit/replay-cache.js';
import type { SubgraphServer } from '../../subgraphs/kit/server.js';
import { importJWK, SignJWT, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { silentLogger } from './context.js';
import { startSandbox, type RunningSandbox } from './sandbox.js';

/** The platform behind each subgraph. */
export const PLATFORM_OF = Object.fromEntries(
  ROLE_DECLARATIONS.map((role) => [role.name, role.platform]),
) as Record<PlatformSubgraphName, Platform>;

/** Ways to make a token the subgraph must refuse. Without any, `mint` signs what the gateway would. */
export interface MintOptions {
  /** Sign with a key the subgraph does not trust, under the trusted key's `kid`. */
  forged?: boolean;
  /** @default the subgraph's name */
  audience?: string;
  /** @default the gateway's issuer */
  issuer?: string;
  /** Signs a token whose `exp` lies this many seconds in the past. */
  expiredSecondsAgo?: number;
  /** An unsigned token (`alg: none`). */
  unsigned?: boolean;
  /** Sign with this private JWK (a second, also trusted key). */
  key?: JWK;
  /** The `planned` claim: key fields the query planner added to the fetch for a join. */
  planned?: readonly string[];
  /** Binds the token to this exact request body (`bh`), as the gateway does. */
  body?: string;
  /** A token claiming this life in seconds (a subgraph refuses more than 30). */
  lifeSeconds?: number;
  /** Leave out `jti` (a subgraph refuses a token it cannot tell apart from others). */
  withoutId?: boolean;
}

export interface RunningSubgraph {
  name: PlatformSubgraphName;
  /** `http://127.0.0.1:<port>/graphql`. */
  url: string;
  origin: string;
  sandbox: RunningSandbox;
  world: World;
  /** A gateway token for this subgraph carrying `scopes`, or a bad one as `options` say. */
  mint(scopes: readonly string[], clientId?: string, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export interface StartSubgraphOptions {
  world?: World;
  /**
   * Off, the sandbox enforces no limits and the connector is given a top plan's limits, so a table
   * of queries never waits for a throttle. @default false
   */
  rateLimits?: boolean;
  /** @default the silent test logger */
  logger?: Logger;
  /** Public keys trusted besides the helper's own, as while the gateway's key rotates. */
  extraKeys?: SubgraphAuth['jwks']['keys'];
  /** The subgraph's replay cache. @default one sized for 10 000 requests a second */
  replays?: ReplayCache;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function buildNamed(
  name: PlatformSubgraphName,
  sandbox: RunningSandbox,
  auth: SubgraphAuth,
  logger: Logger,
  rateLimits: boolean,
): Promise<SubgraphServer> {
  const upstream = { upstreamTimeoutMs: 5_000, upstreamMaxRetries: 1, auth };
  const unthrottled = !rateLimits;
  switch (name) {
    case 'crm':
      return buildCrmSubgraph(
        {
          ...upstream,
          hubspot: {
            baseUrl: sandbox.baseUrl,
            accessToken: DEMO_CREDENTIALS.hubspot.accessToken,
            accountId: DEMO_CREDENTIALS.hubspot.accountId,
            ...(unthrottled ? { ratePer10s: 10_000 } : {}),
          },
        },
        logger,
      );
    case 'email':
      return buildEmailSubgraph(
        {
          ...upstream,
          mailchimp: {
            baseUrl: sandbox.baseUrl,
            apiKey: DEMO_CREDENTIALS.mailchimp.apiKey,
            listId: DEMO_CREDENTIALS.mailchimp.listId,
          },
        },
        logger,
      );
    case 'commerce':
      return buildCommerceSubgraph(
        {
          ...upstream,
          shopify: {
            baseUrl: sandbox.baseUrl,
            accessToken: DEMO_CREDENTIALS.shopify.accessToken,
            ...(unthrottled ? { bucketSize: 10_000, leakPerSecond: 1_000 } : {}),
          },
        },
        logger,
      );
    case 'ads':
      return buildAdsSubgraph(
        {
          ...upstream,
          meta: {
            baseUrl: sandbox.baseUrl,
            accessToken: DEMO_CREDENTIALS.meta.accessToken,
            adAccountId: DEMO_CREDENTIALS.meta.adAccountId,
            ...(unthrottled ? { insightsCallsPerHour: 100_000 } : {}),
          },
        },
        logger,
      );
    case 'messaging':
      return buildMessagingSubgraph(
        {
          ...upstream,
          twilio: {
            baseUrl: sandbox.baseUrl,
            credentials: {
              accountSid: DEMO_CREDENTIALS.twilio.accountSid,
              authToken: DEMO_CREDENTIALS.twilio.authToken,
            },
            from: DEMO_CREDENTIALS.twilio.from,
            ...(unthrottled ? { maxConcurrent: 100 } : {}),
          },
        },
        logger,
      );
  }
}

/** A gateway key pair trusted by one subgraph, for tests that build the subgraph themselves. */
export interface GatewayKeys {
  /** The `auth` of the subgraph's config: the helper's public key, and `extraKeys` if given. */
  auth: SubgraphAuth;
  /** `auth.jwks` as the JSON of `GATEWAY_TOKEN_JWKS`, for a `*ConfigFromEnv`. */
  jwksEnv: string;
  /** A gateway token for the subgraph carrying `scopes`, or a bad one as `options` say. */
  mint(scopes: readonly string[], clientId?: string, options?: MintOptions): Promise<string>;
}

/**
 * A fresh gateway key pair for the subgraph `name`, with a `mint` that signs tokens the way the
 * gateway does, or wrongly on purpose.
 */
export async function gatewayKeysFor(
  name: PlatformSubgraphName,
  extraKeys: SubgraphAuth['jwks']['keys'] = [],
): Promise<GatewayKeys> {
  const keys = await generateGatewayKeys();
  const intruder = await generateGatewayKeys(keys.privateJwk.kid);
  const signer = new GatewayTokenSigner(keys.privateJwk);
  const auth: SubgraphAuth = { jwks: { keys: [...keys.publicJwks.keys, ...extraKeys] } };

  const mint = async (scopes: readonly string[], clientId = 'test-client', how: MintOptions = {}) => {
    const plain =
      !how.forged &&
      !how.unsigned &&
      how.key === undefined &&
      how.audience === undefined &&
      how.issuer === undefined &&
      how.expiredSecondsAgo === undefined &&
      how.lifeSeconds === undefined &&
      !how.withoutId;
    // A fresh token (its own jti) every call, as the gateway signs one per fetch.
    if (plain)
      return signer.tokenFor(
        name,
        { clientId, scopes },
        {
          ...(how.planned ? { planned: how.planned } : {}),
          ...(how.body !== undefined ? { body: how.body } : {}),
        },
      );
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      scope: [...scopes].join(' '),
      ...(how.withoutId ? {} : { jti: randomBytes(16).toString('base64url') }),
      ...(how.planned ? { planned: how.planned } : {}),
    };
    const life = how.lifeSeconds ?? 30;
    const expiresAt = how.expiredSecondsAgo !== undefined ? now - how.expiredSecondsAgo : now + life;
    const issuedAt = Math.min(now, expiresAt - life);
    if (how.unsigned) {
      const payload = {
        ...claims,
        iss: how.issuer ?? GATEWAY_ISSUER,
        aud: how.audience ?? name,
        sub: clientId,
        iat: issuedAt,
        exp: expiresAt,
      };
      return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(payload)}.`;
    }
    const jwk = how.key ?? (how.forged ? intruder.privateJwk : keys.privateJwk);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid ?? 'gateway', typ: 'JWT' })
      .setIssuer(how.issuer ?? GATEWAY_ISSUER)
      .setAudience(how.audience ?? name)
      .setSubject(clientId)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(await importJWK(jwk, 'EdDSA'));
  };

  return { auth, jwksEnv: JSON.stringify(auth.jwks), mint };
}

/**
 * One subgraph on port 0 against its platform's sandbox, trusting a fresh gateway key pair (no
 * record cache), with a `mint` that signs tokens the way the gateway does, or wrongly on purpose.
 */
export async function startSubgraph(
  name: PlatformSubgraphName,
  options: StartSubgraphOptions = {},
): Promise<RunningSubgraph> {
  const keys = await gatewayKeysFor(name, options.extraKeys);
  const { mint } = keys;
  const auth = options.replays ? { ...keys.auth, replays: options.replays } : keys.auth;
  const rateLimits = options.rateLimits ?? false;
  const sandbox = await startSandbox(PLATFORM_OF[name], {
    rateLimits,
    ...(options.world ? { world: options.world } : {}),
  });
  const subgraph = await buildNamed(name, sandbox, auth, options.logger ?? silentLogger, rateLimits);
  const listening = await listen(subgraph.server, 0, '127.0.0.1');

  return {
    name,
    url: `${listening.origin}/graphql`,
    origin: listening.origin,
    sandbox,
    world: sandbox.world,
    mint,
    async close() {
      await listening.close();
      await subgraph.stop();
      await sandbox.close();
    },
  };
}
