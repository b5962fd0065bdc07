import { beforeAll, describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import type { Authenticator } from '../../gateway/auth/authenticate.js';
import { withSystemCallers } from '../../gateway/auth/system-tokens.js';
import { EVENT_PROCESSOR } from '../../gateway/identity.js';
import { generateGatewayKeys, GatewayTokenSigner, publicJwksOf } from '../../lib/auth/gateway-token.js';
import { GATEWAY_AUDIENCE, SYSTEM_CALLERS } from '../../lib/auth/system-callers.js';

/** Stands in for the client authenticators (API keys, OIDC; tested in authenticate.test.ts): says it was asked. */
const clients: Authenticator = async () => ({
  ok: true,
  identity: { id: 'asked-the-client-registry', scopes: [], via: 'api-key' },
});

describe('a worker reading the graph as the event processor (withSystemCallers)', () => {
  let key: JWK;
  let authenticate: Authenticator;
  let signer: GatewayTokenSigner;
  const processor = { clientId: SYSTEM_CALLERS.eventProcessor, scopes: ['admin:everything'] };
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    key = (await generateGatewayKeys()).privateJwk;
    authenticate = withSystemCallers(clients, publicJwksOf(key));
    signer = new GatewayTokenSigner(key);
  });

  it("should identify the event processor with the gateway's scopes, never the token's", async () => {
    const result = await authenticate(bearer(await signer.tokenFor(GATEWAY_AUDIENCE, processor)));
    expect(result).toEqual({ ok: true, identity: EVENT_PROCESSOR });
  });

  it('should accept each token once', async () => {
    const token = await signer.tokenFor(GATEWAY_AUDIENCE, processor);
    expect((await authenticate(bearer(token))).ok).toBe(true);
    expect(await authenticate(bearer(token))).toMatchObject({
      ok: false,
      status: 401,
      reason: 'system-token',
    });
  });

  it('should refuse another system caller, another audience, and another key', async () => {
    const health = await signer.tokenFor(GATEWAY_AUDIENCE, { clientId: SYSTEM_CALLERS.health, scopes: [] });
    const forCrm = await signer.tokenFor('crm', processor);
    const otherKey = new GatewayTokenSigner((await generateGatewayKeys()).privateJwk);
    const forged = await otherKey.tokenFor(GATEWAY_AUDIENCE, processor);
    for (const token of [health, forCrm, forged])
      expect(await authenticate(bearer(token))).toMatchObject({ ok: false, reason: 'system-token' });
  });

  it('should hand every other credential to the client authenticators', async () => {
    const oidcShaped = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
    for (const source of [bearer('mgk_abc'), bearer(oidcShaped), { headers: {} }])
      expect(await authenticate(source)).toMatchObject({
        ok: true,
        identity: { id: 'asked-the-client-registry' },
      });
  });
});

describe("a worker reading a webhook's enrichment as the endpoint's owner (withSystemCallers)", () => {
  let authenticate: Authenticator;
  let signer: GatewayTokenSigner;
  const owners: Record<string, string[]> = { 'partner-app': ['crm:read', 'commerce:read'] };
  const enrichment = { clientId: SYSTEM_CALLERS.webhookEnrichment, scopes: ['admin:everything'] };
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    const key = (await generateGatewayKeys()).privateJwk;
    authenticate = withSystemCallers(clients, publicJwksOf(key), (clientId) =>
      owners[clientId] ? { id: clientId, scopes: owners[clientId], via: 'api-key' } : undefined,
    );
    signer = new GatewayTokenSigner(key);
  });

  it("should read with the owner's registered scopes, never the token's, once", async () => {
    const token = await signer.tokenFor(GATEWAY_AUDIENCE, enrichment, { onBehalfOf: 'partner-app' });
    expect(await authenticate(bearer(token))).toEqual({
      ok: true,
      identity: { id: 'partner-app', scopes: ['crm:read', 'commerce:read'], via: 'system' },
    });
    expect(await authenticate(bearer(token))).toMatchObject({ ok: false, reason: 'system-token' });
  });

  it('should say the owner is unknown when it is not registered, and refuse a token naming no owner', async () => {
    const gone = await signer.tokenFor(GATEWAY_AUDIENCE, enrichment, { onBehalfOf: 'deleted-app' });
    expect(await authenticate(bearer(gone))).toMatchObject({
      ok: false,
      status: 401,
      reason: 'system-token:owner-unknown',
      extensions: { reason: 'owner-unknown' },
    });
    const nobody = await signer.tokenFor(GATEWAY_AUDIENCE, enrichment);
    expect(await authenticate(bearer(nobody))).toMatchObject({ ok: false, reason: 'system-token' });
    // A client's own credential naming an owner is not a system token: the registry decides.
    expect(await authenticate({ headers: { authorization: 'Bearer mgk_abc' } })).toMatchObject({
      ok: true,
      identity: { id: 'asked-the-client-registry' },
    });
  });
});
