import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../gateway/auth/api-keys.js';
import { createAuthenticator, type Authentication } from '../../gateway/auth/authenticate.js';
import type { AccessTokenVerifier } from '../../gateway/auth/jwt.js';
import { authMetrics } from '../../gateway/auth/metrics.js';
import { parseClientRegistry } from '../../gateway/auth/registry.js';
import { clientRecord, keyRecord } from './fixtures.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const active = keyRecord();
const expired = keyRecord({ expiresAt: '2029-12-31T00:00:00.000Z' });
const revoked = keyRecord({ revokedAt: '2029-12-01T00:00:00.000Z' });
const registry = parseClientRegistry({
  clients: [clientRecord('reporting-dashboard', [active.record, expired.record, revoked.record])],
});

/** Three base64url segments: shaped like a JWT, so the authenticator hands it to the token verifier. */
const GOOD_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const BAD_AUDIENCE_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJvdGhlciJ9.c2lnbmF0dXJl';
/** Stands in for the JWKS-backed verifier (tested on its own in jwt.test.ts), to test the routing. */
const fakeTokens: AccessTokenVerifier = async (token) =>
  token === GOOD_JWT
    ? { ok: true, identity: { id: 'spa-client', scopes: ['campaigns:read'], via: 'jwt' } }
    : { ok: false, reason: 'audience' };

/** An HTTP server on port 0 that answers with what each authenticator makes of the request. */
async function serve(
  authenticators: Record<string, ReturnType<typeof createAuthenticator>>,
): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    const authenticate = authenticators[name];
    if (!authenticate) throw new Error(`no authenticator ${name}`);
    void authenticate(req).then((result) => res.end(JSON.stringify(result)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('authenticator', () => {
  let served: { server: Server; origin: string };
  const call = async (headers: Record<string, string>, which = 'keys-and-tokens'): Promise<Authentication> =>
    (await (await fetch(`${served.origin}/${which}`, { headers })).json()) as Authentication;
  const reasonOf = (result: Authentication) => (result.ok ? `ok:${result.identity.id}` : result.reason);

  beforeAll(async () => {
    served = await serve({
      'keys-and-tokens': createAuthenticator({ registry, accessTokens: fakeTokens, now: () => NOW }),
      'keys-only': createAuthenticator({ registry, now: () => NOW }),
    });
  });
  afterAll(() => new Promise((resolve) => served.server.close(resolve)));
  beforeEach(() => {
    authMetrics.failures.reset();
    authMetrics.successes.reset();
  });

  it('should identify an API key sent as a bearer credential or in x-api-key', async () => {
    const expected = {
      ok: true,
      identity: { id: 'reporting-dashboard', scopes: ['ads:read', 'campaigns:read'], via: 'api-key' },
    };
    expect(await call({ authorization: `Bearer ${active.key}` })).toEqual(expected);
    expect(await call({ 'x-api-key': active.key })).toEqual(expected);
    expect(await call({ authorization: `bearer   ${active.key}`, 'x-api-key': active.key })).toEqual(
      expected,
    );
    expect(await authMetrics.successes.get({ via: 'api-key' })).toBe(3);
  });

  it('should identify an access token through the token verifier', async () => {
    expect(await call({ authorization: `Bearer ${GOOD_JWT}` })).toEqual({
      ok: true,
      identity: { id: 'spa-client', scopes: ['campaigns:read'], via: 'jwt' },
    });
    expect(reasonOf(await call({ authorization: `Bearer ${BAD_AUDIENCE_JWT}` }))).toBe('jwt:audience');
    expect(await authMetrics.successes.get({ via: 'jwt' })).toBe(1);
  });

  it('should answer a request without credentials with 401 and say how to send one', async () => {
    expect(await call({})).toEqual({
      ok: false,
      status: 401,
      reason: 'missing',
      message:
        'Authentication required: send an API key or an access token as `Authorization: Bearer <credential>`.',
      wwwAuthenticate: 'Bearer realm="marketing-graph"',
    });
  });

  it('should tell the client the same thing for unknown, wrong, expired and revoked keys', async () => {
    const wrongSecret = `mgk_${active.record.id}_${generateApiKey().secret}`;
    const results = await Promise.all(
      [generateApiKey().key, wrongSecret, expired.key, revoked.key].map((key) =>
        call({ authorization: `Bearer ${key}` }),
      ),
    );
    expect(results.map(reasonOf)).toEqual([
      'api-key:unknown',
      'api-key:unknown',
      'api-key:expired',
      'api-key:revoked',
    ]);
    const told = results.map((r) => (r.ok ? undefined : [r.status, r.message, r.wwwAuthenticate]));
    expect(new Set(told.map((t) => JSON.stringify(t))).size).toBe(1);
    expect(told[0]).toEqual([
      401,
      'The credential is not valid: it is unknown, expired or revoked.',
      'Bearer realm="marketing-graph", error="invalid_token"',
    ]);
    expect(await authMetrics.failures.get({ reason: 'api-key:unknown' })).toBe(2);
    expect(await authMetrics.failures.get({ reason: 'api-key:revoked' })).toBe(1);
  });

  it('should refuse other schemes, two different credentials, tokens in x-api-key and oversized input', async () => {
    expect(reasonOf(await call({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }))).toBe(
      'malformed',
    );
    expect(reasonOf(await call({ authorization: 'Bearer not a credential' }))).toBe('malformed');
    expect(reasonOf(await call({ authorization: `Bearer ${active.key}`, 'x-api-key': expired.key }))).toBe(
      'conflicting',
    );
    expect(reasonOf(await call({ 'x-api-key': GOOD_JWT }))).toBe('malformed');
    expect(reasonOf(await call({ authorization: `Bearer ${active.key.slice(0, -3)}` }))).toBe(
      'api-key:malformed',
    );
    expect(reasonOf(await call({ authorization: `Bearer mgk_${'a'.repeat(9000)}` }))).toBe('malformed');
    expect(await authMetrics.failures.sum()).toBe(6);
  });

  it('should refuse an access token when OIDC is not configured', async () => {
    expect(reasonOf(await call({ authorization: `Bearer ${GOOD_JWT}` }, 'keys-only'))).toBe(
      'jwt:not-configured',
    );
    expect(await authMetrics.failures.get({ reason: 'jwt:not-configured' })).toBe(1);
  });
});
