import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { addDays } from '../../lib/dates.js';
import { as } from '../helpers/clients.js';
import { CUSTOMERS, DASHBOARD, PROFILE } from '../helpers/operations.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack, type GraphQLResponse } from '../helpers/stack.js';
import { BENCH_WEBHOOK_SEALING_KEY, BENCH_WEBHOOK_SECRETS } from '../../bench/gateway-process.js';

/**
 * Every attack or mistake gets a 4xx or a GraphQL error with a code: never data it should not see,
 * never a 500, never a stack.
 */
const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'marketing-graph';

function expectRefused(response: GraphQLResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors?.[0]?.extensions?.['code']).toBe(code);
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

describe('security at the gateway', () => {
  let stack: Stack;
  let jwks: Server;
  let signingKey: CryptoKey;
  let publicJwk: JWK;
  let keys: Record<string, string[]>;
  let url: string;
  const range = { since: addDays(TEST_ANCHOR_DATE, -29), until: TEST_ANCHOR_DATE };
  const token = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT({ scope: 'crm:read email:read', client_id: 'crm-app', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(signingKey);

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const registry = writeTestRegistry([
      { id: 'crm-no-pii', scopes: ['crm:read', 'email:read', 'commerce:read'] },
      {
        id: 'rotating',
        scopes: ['campaigns:read', 'ads:read'],
        keys: [
          { expiresAt: new Date(Date.now() - 1_000).toISOString() },
          { revokedAt: new Date(Date.now() - 1_000).toISOString() },
        ],
      },
      {
        id: 'tiny-limit',
        scopes: ['campaigns:read', 'ads:read'],
        rateLimit: { requestsPerMinute: 60, burst: 2 },
      },
      { id: 'admin', scopes: ['crm:read', 'pii:read', 'schema:read'] },
    ]);
    keys = registry.keys;
    stack = await startTestStack({
      clientsFile: registry.clientsFile,
      mode: 'production',
      accessTokens: {
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      },
    });
    url = stack.gatewayUrl;
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((r) => jwks?.close(r));
  });

  const key = (client: string, index = 0) => ({ authorization: `Bearer ${keys[client]![index]}` });

  it('should refuse a request without credentials with 401 and say how to authenticate', async () => {
    const response = await graphql(url, PROFILE, { email: 'a@example.com' });
    expectRefused(response, 401, 'UNAUTHENTICATED');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('should refuse a wrong, an expired and a revoked key alike, without saying which', async () => {
    const messages = new Set<string>();
    for (const headers of [
      { authorization: 'Bearer mgk_aaaaaaaaaaaa_not-a-real-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaa' },
      { 'x-api-key': `${keys['rotating']![0]!.slice(0, -4)}AAAA` },
      key('rotating', 1),
      key('rotating', 2),
    ]) {
      const response = await graphql(url, DASHBOARD, range, headers);
      expectRefused(response, 401, 'UNAUTHENTICATED');
      messages.add(response.body.errors![0]!.message);
    }
    expect(messages.size).toBe(1);
    expect((await graphql(url, DASHBOARD, range, key('rotating', 0))).body.errors).toBeUndefined();
  });

  it('should accept a valid OAuth access token and use its scopes', async () => {
    const response = await graphql(
      url,
      '{ customers(first: 1) { edges { node { id email } } } }',
      {},
      { authorization: `Bearer ${await token({})}` },
    );
    expect(response.status).toBe(200);
    const edges = (
      response.body.data as { customers: { edges: { node: { id: string; email: string | null } }[] } }
    ).customers.edges;
    expect(edges[0]?.node.id).toBe(stack.world.customers[0]!.crm.id);
    expect(edges[0]?.node.email).toBeNull();
    expect(response.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      field: 'Customer.email',
    });
  });

  it('should refuse tokens with alg none, a wrong issuer or audience, expired, or signed by an unknown key', async () => {
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, scope: 'pii:read crm:read', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url')}.`;
    const stranger = await generateKeyPair('RS256');
    const bad = [
      unsigned,
      await new SignJWT({ scope: 'crm:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer('https://evil.example.test/')
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(signingKey),
      await new SignJWT({ scope: 'crm:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('another-api')
        .setExpirationTime('5m')
        .sign(signingKey),
      await new SignJWT({ scope: 'crm:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 3_600)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 600)
        .sign(signingKey),
      await new SignJWT({ scope: 'crm:read' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k9' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(stranger.privateKey),
    ];
    for (const jwt of bad)
      expectRefused(
        await graphql(url, CUSTOMERS, { first: 1 }, { authorization: `Bearer ${jwt}` }),
        401,
        'UNAUTHENTICATED',
      );
  });

  it('should not let an alias, a fragment or an inline fragment smuggle personal data', async () => {
    const email = stack.world.customers[3]!.person.email;
    for (const query of [
      `{ customer(email: "${email}") { id contact: email name: firstName } }`,
      `{ customer(email: "${email}") { ...who } } fragment who on Customer { id email phone }`,
      `{ customer(email: "${email}") { ... on Customer { id lastName } } }`,
      `query($e: String!) { customer(email: $e) { id ...more } } fragment more on Customer { ... on Customer { email } }`,
    ]) {
      const response = await graphql(url, query, { e: email }, key('crm-no-pii'));
      expect(JSON.stringify(response.body)).not.toContain(email);
      expect(JSON.stringify(response.body)).not.toContain(stack.world.customers[3]!.person.lastName);
      expect((response.body.data as { customer: { id: string } }).customer.id).toBe(
        stack.world.customers[3]!.crm.id,
      );
      expect(response.body.errors?.every((e) => e.extensions?.['code'] === 'FORBIDDEN')).toBe(true);
    }
  });

  it('should not expose federation internals (_entities, _service) at the gateway', async () => {
    const response = await graphql(
      url,
      '{ _entities(representations: [{ __typename: "Customer", email: "x@example.com" }]) { ... on Customer { email } } }',
      {},
      key('admin'),
    );
    expectRefused(response, 400, 'GRAPHQL_VALIDATION_FAILED');
  });

  it('should refuse introspection without schema:read and allow it with', async () => {
    const without = await graphql(url, '{ __schema { types { name } } }', {}, key('crm-no-pii'));
    expect(without.body.data ?? null).toBeNull();
    expect(without.body.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      field: 'Query.__schema',
    });
    const withScope = await graphql(url, '{ __schema { queryType { name } } }', {}, key('admin'));
    expect(withScope.body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('should refuse alias, cost and token bombs with OPERATION_LIMIT_EXCEEDED (depth: see operation-limits.test.ts)', async () => {
    const deep =
      '{ customers(first: 1) { edges { node { lists { id } orders(first: 1) { totalPrice { amount } utm { source } } } } pageInfo { hasNextPage } } }';
    expect((await graphql(url, deep, {}, key('crm-no-pii'))).body.errors).toBeUndefined();
    const aliasBomb = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: customers(first: 1) { pageInfo { hasNextPage } }`).join(' ')} }`;
    const costBomb = `{ ${Array.from({ length: 12 }, (_, i) => `c${i}: customers(first: 500) { edges { node { id lists { id name } } } }`).join(' ')} }`;
    const tokenBomb = `{ customers(first: 1) { edges { node { ${'id '.repeat(1_200)} } } } }`;
    for (const query of [aliasBomb, costBomb, tokenBomb]) {
      const response = await graphql(url, query, {}, key('admin'));
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions?.['code']).toBe('OPERATION_LIMIT_EXCEEDED');
    }
  });

  it('should refuse a 5 MB body with 413 and malformed JSON with 400', async () => {
    const huge = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key('admin') },
      body: JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(5 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    const malformed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key('admin') },
      body: '{"query": "{',
    });
    expect(malformed.status).toBe(400);
  });

  it('should block a GET mutation and a simple-request GET (CSRF)', async () => {
    const simple = await fetch(`${url}?query=${encodeURIComponent('{ __typename }')}`, {
      headers: key('admin'),
    });
    expect(simple.status).toBe(400);
    expect(await simple.text()).toMatch(/Cross-Site Request Forgery/);
    const mutation = await fetch(`${url}?query=${encodeURIComponent('mutation { __typename }')}`, {
      headers: { ...key('admin'), 'apollo-require-preflight': 'true' },
    });
    expect([400, 405]).toContain(mutation.status);
    expect(((await mutation.json()) as { data?: unknown }).data ?? null).toBeNull();
  });

  it('should rate-limit a client with 429, Retry-After and RATE_LIMITED', async () => {
    const statuses: number[] = [];
    let last: GraphQLResponse | undefined;
    for (let i = 0; i < 4; i++) {
      last = await graphql(url, '{ __typename }', {}, key('tiny-limit'));
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(last!.body.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
  });

  it('should hide field suggestions in production', async () => {
    const response = await graphql(
      url,
      '{ customers(first: 1) { edges { node { emai } } } }',
      {},
      key('admin'),
    );
    expect(response.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});

describe('strict authorization mode', () => {
  it('should refuse the whole operation when any field is denied', async () => {
    const stack = await startTestStack({ authorizationMode: 'strict' });
    try {
      const response = await graphql(
        stack.gatewayUrl,
        PROFILE,
        { email: stack.world.customers[0]!.person.email },
        as('reporting-dashboard'),
      );
      expectRefused(response, 403, 'FORBIDDEN');
    } finally {
      await stack.close();
    }
  });
});

describe('demo keys in production', () => {
  it('should refuse to start with the demo registry when NODE_ENV=production', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: '0',
        CRM_PORT: '0',
        EMAIL_PORT: '0',
        COMMERCE_PORT: '0',
        ADS_PORT: '0',
        MESSAGING_PORT: '0',
        HUBSPOT_SANDBOX_PORT: '0',
        MAILCHIMP_SANDBOX_PORT: '0',
        SHOPIFY_SANDBOX_PORT: '0',
        META_SANDBOX_PORT: '0',
        TWILIO_SANDBOX_PORT: '0',
        LOG_LEVEL: 'silent',
        // Real-looking webhook secrets, so the demo API keys are what is refused.
        HUBSPOT_WEBHOOK_SECRETS: BENCH_WEBHOOK_SECRETS.hubspot,
        SHOPIFY_WEBHOOK_SECRETS: BENCH_WEBHOOK_SECRETS.shopify,
        MAILCHIMP_WEBHOOK_SECRETS: BENCH_WEBHOOK_SECRETS.mailchimp,
        SITE_WEBHOOK_SECRETS: BENCH_WEBHOOK_SECRETS.site,
        TWILIO_WEBHOOK_SECRETS: BENCH_WEBHOOK_SECRETS.twilio,
        WEBHOOK_SECRET_SEALING_KEY: BENCH_WEBHOOK_SEALING_KEY,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/CLIENTS_FILE/);
    expect(stderr).toMatch(/demo/i);
  });
});
