import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigFromEnv } from '../../gateway/auth/config.js';
import { createAccessTokenVerifier, type AccessTokenVerifierOptions } from '../../gateway/auth/jwt.js';
import { ConfigError } from '../../lib/config/env.js';
import { createLogger } from '../../lib/logger.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'https://marketing-graph.example.test';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
interface SigningKey {
  kid: string;
  alg: string;
  pair: KeyPair;
}

/** The issuer's key set, served over HTTP; tests publish keys into it while it runs. */
class JwksServer {
  readonly published: JWK[] = [];
  fetches = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: this.published }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async publish(key: SigningKey): Promise<void> {
    this.published.push({ ...(await exportJWK(key.pair.publicKey)), kid: key.kid, alg: key.alg, use: 'sig' });
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const newKey = async (kid: string, alg: string): Promise<SigningKey> => ({
  kid,
  alg,
  pair: await generateKeyPair(alg, { extractable: true }),
});

const nowS = () => Math.floor(Date.now() / 1000);

async function sign(
  key: SigningKey,
  claims: JWTPayload = {},
  { kid = key.kid, alg = key.alg }: { kid?: string; alg?: string } = {},
): Promise<string> {
  return new SignJWT({ client_id: 'campaign-app', scope: 'campaigns:read', ...claims })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : nowS() + 300)
    .sign(key.pair.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access token verification against a rotating JWKS', () => {
  const jwks = new JwksServer();
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;
  const logLines: string[] = [];
  const verifier = (overrides: Partial<AccessTokenVerifierOptions> = {}) =>
    createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: jwks.url,
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
      logger: createLogger({
        name: 'test',
        level: 'warn',
        destination: { write: (l: string) => logLines.push(l) },
      }),
      ...overrides,
    });

  beforeAll(async () => {
    [rsa, ec, stranger] = await Promise.all([
      newKey('rsa-2030-01', 'RS256'),
      newKey('ec-2030-01', 'ES256'),
      newKey('never-published', 'RS256'),
    ]);
    await jwks.start();
    await jwks.publish(rsa);
    await jwks.publish(ec);
  });
  afterAll(() => jwks.stop());

  it('should accept RS256 and ES256 tokens, with the client id and scopes they carry', async () => {
    const verify = verifier();
    expect(await verify(await sign(rsa, { scope: 'pii:read crm:read' }))).toEqual({
      ok: true,
      identity: { id: 'campaign-app', scopes: ['crm:read', 'pii:read'], via: 'jwt' },
    });
    expect(
      await verify(await sign(ec, { client_id: undefined, azp: 'spa-client', scope: 'ads:read' })),
    ).toEqual({
      ok: true,
      identity: { id: 'spa-client', scopes: ['ads:read'], via: 'jwt' },
    });
  });

  it('should read scopes from scp as a list or a string, and the client from sub when nothing else names it', async () => {
    const verify = verifier();
    const listForm = await sign(rsa, { scope: undefined, scp: ['email:read', 'crm:read'] });
    const stringForm = await sign(ec, {
      scope: undefined,
      scp: 'commerce:read',
      client_id: undefined,
      sub: 'user-42',
    });
    expect(await verify(listForm)).toMatchObject({
      ok: true,
      identity: { scopes: ['crm:read', 'email:read'] },
    });
    expect(await verify(stringForm)).toMatchObject({
      ok: true,
      identity: { id: 'user-42', scopes: ['commerce:read'] },
    });
  });

  it('should drop scopes it does not know, and log each one once', async () => {
    const verify = verifier();
    logLines.length = 0;
    for (let i = 0; i < 3; i++) {
      const result = await verify(await sign(rsa, { scope: 'crm:read crm:write admin' }));
      expect(result).toMatchObject({ ok: true, identity: { scopes: ['crm:read'] } });
    }
    const dropped = logLines.map((l) => (JSON.parse(l) as { scope: string }).scope);
    expect(dropped).toEqual(['crm:write', 'admin']);
  });

  it('should fetch the key set again for a key added after the first fetch, and accept its tokens', async () => {
    const verify = verifier({ jwksCooldownMs: 0 });
    expect((await verify(await sign(rsa))).ok).toBe(true);
    const fetchesBefore = jwks.fetches;
    const rotated = await newKey('rsa-2030-02', 'RS256');
    await jwks.publish(rotated);
    expect(await verify(await sign(rotated, { scope: 'ads:read' }))).toEqual({
      ok: true,
      identity: { id: 'campaign-app', scopes: ['ads:read'], via: 'jwt' },
    });
    expect(jwks.fetches).toBe(fetchesBefore + 1);
    expect((await verify(await sign(rotated))).ok).toBe(true);
    expect(jwks.fetches).toBe(fetchesBefore + 1);
  });

  it('should not fetch again for unknown keys within the cooldown', async () => {
    const verify = verifier({ jwksCooldownMs: 60_000 });
    expect((await verify(await sign(rsa))).ok).toBe(true);
    const fetchesBefore = jwks.fetches;
    for (let i = 0; i < 5; i++)
      expect(await verify(await sign(stranger))).toEqual({ ok: false, reason: 'unknown-key' });
    expect(jwks.fetches).toBe(fetchesBefore);
  });

  it('should refuse a token signed by a key the issuer never published', async () => {
    const verify = verifier({ jwksCooldownMs: 0 });
    expect(await verify(await sign(stranger))).toEqual({ ok: false, reason: 'unknown-key' });
    expect(await verify(await sign(stranger, {}, { kid: rsa.kid }))).toEqual({
      ok: false,
      reason: 'signature',
    });
  });

  it('should refuse alg none, before any key lookup', async () => {
    const verify = verifier();
    const fetchesBefore = jwks.fetches;
    const payload = { iss: ISSUER, aud: AUDIENCE, exp: nowS() + 300, client_id: 'x', scope: 'pii:read' };
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    expect(await verify(unsigned)).toEqual({ ok: false, reason: 'algorithm' });
    expect(jwks.fetches).toBe(fetchesBefore);
  });

  it("should refuse an HS256 token whose secret is the public key's bytes", async () => {
    const verify = verifier();
    const publicPem = await exportSPKI(rsa.pair.publicKey);
    const forged = await new SignJWT({ client_id: 'forger', scope: 'pii:read' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(nowS() + 300)
      .sign(new TextEncoder().encode(publicPem));
    expect(await verify(forged)).toEqual({ ok: false, reason: 'algorithm' });
  });

  it('should refuse a token for another issuer or another audience', async () => {
    const verify = verifier();
    expect(await verify(await sign(rsa, { iss: 'https://evil.example.test/' }))).toEqual({
      ok: false,
      reason: 'issuer',
    });
    expect(await verify(await sign(rsa, { aud: 'https://other-api.example.test' }))).toEqual({
      ok: false,
      reason: 'audience',
    });
  });

  it('should apply the clock tolerance to exp and nbf, and no further', async () => {
    const verify = verifier({ clockToleranceSeconds: 30 });
    expect(await verify(await sign(rsa, { exp: nowS() - 120 }))).toEqual({ ok: false, reason: 'expired' });
    expect((await verify(await sign(rsa, { exp: nowS() - 10 }))).ok).toBe(true);
    expect(await verify(await sign(rsa, { nbf: nowS() + 120 }))).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });
    expect((await verify(await sign(rsa, { nbf: nowS() + 10 }))).ok).toBe(true);
  });

  it('should refuse a token without exp or without any client claim, and text that is not a JWT', async () => {
    const verify = verifier();
    const noExp = await new SignJWT({ client_id: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(rsa.pair.privateKey);
    expect(await verify(noExp)).toEqual({ ok: false, reason: 'claims' });
    expect(await verify(await sign(rsa, { client_id: undefined }))).toEqual({ ok: false, reason: 'claims' });
    expect(await verify('abc.def.ghi')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('should report an unreachable key set as such', async () => {
    const gone = new JwksServer();
    await gone.start();
    const url = gone.url;
    await gone.stop();
    const verify = verifier({ jwksUrl: url, jwksTimeoutMs: 2_000 });
    expect(await verify(await sign(rsa))).toEqual({ ok: false, reason: 'jwks-unavailable' });
  });
});

describe('access token configuration', () => {
  const problemsOf = (fn: () => unknown): readonly string[] => {
    try {
      fn();
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };
  const base = { issuer: ISSUER, audience: AUDIENCE, jwksUrl: 'https://login.example.test/jwks' };

  it('should refuse none and every HS algorithm even when configured, naming OIDC_ALGORITHMS', () => {
    expect(
      problemsOf(() => createAccessTokenVerifier({ ...base, algorithms: ['RS256', 'HS256', 'none'] })),
    ).toEqual([
      'OIDC_ALGORITHMS: "HS256" is never accepted (unsigned or symmetric, forgeable with a public key); use RS256, ES256, PS256, EdDSA',
      'OIDC_ALGORITHMS: "none" is never accepted (unsigned or symmetric, forgeable with a public key); use RS256, ES256, PS256, EdDSA',
    ]);
    expect(problemsOf(() => createAccessTokenVerifier({ ...base, algorithms: ['XS999'] }))[0]).toMatch(
      /^OIDC_ALGORITHMS: unknown algorithm "XS999"/,
    );
  });

  it('should read OIDC from the environment all or nothing', () => {
    expect(authConfigFromEnv({})).toEqual({
      mode: 'development',
      clientsFile: 'gateway/auth/demo-clients.json',
    });
    expect(problemsOf(() => authConfigFromEnv({ OIDC_ISSUER: ISSUER }))).toEqual([
      'OIDC_AUDIENCE: required when any of OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL is set (all three, or none to turn JWTs off)',
      'OIDC_JWKS_URL: required when any of OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL is set (all three, or none to turn JWTs off)',
    ]);
    const env = { OIDC_ISSUER: ISSUER, OIDC_AUDIENCE: AUDIENCE, OIDC_JWKS_URL: base.jwksUrl };
    expect(
      authConfigFromEnv({ ...env, OIDC_ALGORITHMS: 'ES256, EdDSA', OIDC_CLOCK_TOLERANCE_S: '5' })
        .accessTokens,
    ).toEqual({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUrl: base.jwksUrl,
      algorithms: ['ES256', 'EdDSA'],
      clockToleranceSeconds: 5,
    });
    expect(problemsOf(() => authConfigFromEnv({ ...env, OIDC_ALGORITHMS: 'RS256,HS512' }))[0]).toMatch(
      /^OIDC_ALGORITHMS: "HS512" is never accepted/,
    );
  });
});
