import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { startTestStack } from '../helpers/stack.js';
import { subscribeSse } from '../helpers/subscriptions.js';
import {
  overHttp,
  overSse,
  verdict,
  wsConnection,
  type OperationBody,
  type Outcome,
} from '../helpers/transports.js';

/**
 * One request pipeline for every transport: the same operation, sent over HTTP, graphql-ws or SSE,
 * meets the same checks in the same order and gets the same refusal, because no transport checks
 * anything itself.
 */
describe('one request pipeline for HTTP, graphql-ws and SSE', () => {
  let stack: Stack;
  let issuer: TestIssuer;
  let keys: Record<string, string[]>;
  let origin: string;
  const key = (client: string) => ({ authorization: `Bearer ${keys[client]![0]}` });
  const PER_CONNECTION = 3;
  // Every line the gateway writes goes through its log (pino); nothing it runs may print around it.
  const console = {
    error: vi.spyOn(globalThis.console, 'error'),
    warn: vi.spyOn(globalThis.console, 'warn'),
    log: vi.spyOn(globalThis.console, 'log'),
  };

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const tiny = { requestsPerMinute: 1, burst: 4 };
    const registry = writeTestRegistry([
      { id: 'burst-http', scopes: ['campaigns:read'], rateLimit: tiny },
      { id: 'burst-ws', scopes: ['campaigns:read'], rateLimit: tiny },
      { id: 'burst-sse', scopes: ['campaigns:read'], rateLimit: tiny },
      { id: 'reader', scopes: ['crm:read', 'pii:read', 'events:read', 'campaigns:read'] },
      { id: 'few-subs', scopes: ['events:read'], maxSubscriptions: 2 },
      { id: 'pii-reader', scopes: ['crm:read', 'pii:read'] },
    ]);
    keys = registry.keys;
    stack = await startTestStack({
      clientsFile: registry.clientsFile,
      mode: 'production',
      accessTokens: issuer.config,
      subscriptionCaps: { perConnection: PER_CONNECTION, perClient: 100 },
    });
    origin = stack.origins.gateway;
  });
  afterAll(async () => {
    await stack?.close();
    await issuer?.close();
  });

  it('should refuse the same burst alike over HTTP, graphql-ws and SSE (rate limit per client)', async () => {
    const body = { query: '{ __typename }' };
    const http: string[] = [];
    for (let i = 0; i < 6; i++) http.push(verdict(await overHttp(origin, key('burst-http'), body)));
    const ws = wsConnection(origin, key('burst-ws'));
    const socket: string[] = [];
    for (let i = 0; i < 6; i++) socket.push(verdict(await ws.run(body)));
    await ws.close();
    const sse: string[] = [];
    for (let i = 0; i < 6; i++) sse.push(verdict(await overSse(origin, key('burst-sse'), body)));

    const expected = ['ok', 'ok', 'ok', 'ok', 'RATE_LIMITED', 'RATE_LIMITED'];
    expect({ http, socket, sse }).toEqual({ http: expected, socket: expected, sse: expected });
  });

  const deep = (levels: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i++) value = { v: value };
    return value;
  };
  const badInput: [string, OperationBody, string][] = [
    ['a syntax error', { query: '{ customers(first: 1) { edges { node { id } }' }, 'GRAPHQL_PARSE_FAILED'],
    [
      'two operations and no operationName',
      { query: 'query A { __typename } query B { __typename }' },
      'OPERATION_RESOLUTION_FAILURE',
    ],
    [
      'an unknown operationName',
      { query: 'query A { __typename }', operationName: 'Nope' },
      'OPERATION_RESOLUTION_FAILURE',
    ],
    [
      'a misspelt field',
      { query: '{ customers(first: 1) { edges { node { emial } } } }' },
      'GRAPHQL_VALIDATION_FAILED',
    ],
    [
      'variables nested 1,000 deep',
      { query: 'query ($x: String) { __typename }', variables: { x: deep(1_000) } },
      'BAD_REQUEST',
    ],
    [
      'twenty aliased __typename',
      { query: `{ ${Array.from({ length: 20 }, (_, i) => `t${i}: __typename`).join(' ')} }` },
      'OPERATION_LIMIT_EXCEEDED',
    ],
    [
      'first: 501 as a literal',
      { query: '{ customers(first: 501) { edges { node { id } } } }' },
      'BAD_USER_INPUT',
    ],
    [
      'first: 501 as a variable',
      { query: 'query ($n: Int!) { customers(first: $n) { edges { node { id } } } }', variables: { n: 501 } },
      'BAD_USER_INPUT',
    ],
  ];

  it.each(badInput)(
    'should answer %s with the same coded sentence over every transport, HTTP 400',
    async (_name, body, code) => {
      const ws = wsConnection(origin, key('reader'));
      const outcomes: Outcome[] = [
        await overHttp(origin, key('reader'), body),
        await ws.run(body),
        await overSse(origin, key('reader'), body),
      ];
      await ws.close();
      expect(outcomes.map(verdict)).toEqual([code, code, code]);
      const messages = outcomes.map((o) => o.errors?.[0]?.message);
      expect(new Set(messages).size).toBe(1);
      expect(messages[0]).toMatch(/\w+ \w+/);
      // Production: the schema is not hinted at.
      expect(messages[0]).not.toMatch(/Did you mean/);
      expect(outcomes[0]!.status).toBe(400);
      expect(outcomes[2]!.status).toBe(400);
    },
  );

  it('should answer a subscription sent as a plain HTTP request with 400 and where subscriptions are served', async () => {
    const outcome = await overHttp(origin, key('reader'), { query: 'subscription { events { type } }' });
    expect(outcome.status).toBe(400);
    expect(outcome.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_REQUEST' },
      message: expect.stringMatching(/graphql-ws on \/graphql .* \/graphql\/stream/),
    });
  });

  it('should refuse a missing scope over SSE with the status and errors HTTP gives', async () => {
    const body = { query: '{ customers(first: 1) { edges { node { id } } } }' };
    const headers = { authorization: `Bearer ${keys['few-subs']![0]}` };
    const [http, sse] = [await overHttp(origin, headers, body), await overSse(origin, headers, body)];
    expect(sse).toEqual(http);
    expect(verdict(http)).toBe('FORBIDDEN');
  });

  it(`should cap subscriptions at ${PER_CONNECTION} per connection and at the client's own maxSubscriptions`, async () => {
    const events = { query: 'subscription { events { type } }' };
    const ws = wsConnection(origin, key('reader'));
    const opened: (Outcome | undefined)[] = [];
    for (let i = 0; i <= PER_CONNECTION; i++) opened.push(await ws.open(events));
    expect(opened.slice(0, PER_CONNECTION)).toEqual(Array(PER_CONNECTION).fill(undefined));
    expect(verdict(opened[PER_CONNECTION]!)).toBe('RATE_LIMITED');
    expect(opened[PER_CONNECTION]!.errors?.[0]?.message).toMatch(/connection already has 3 subscriptions/);
    await ws.close();

    const headers = { authorization: `Bearer ${keys['few-subs']![0]}` };
    const streams = [
      subscribeSse(origin, headers, events.query),
      subscribeSse(origin, headers, events.query),
    ];
    await Promise.all(streams.map((s) => s.ready));
    const third = await overSse(origin, headers, events);
    expect(third.status).toBe(429);
    expect(third.errors?.[0]?.message).toMatch(/few-subs already has 2 subscriptions open/);
    // A slot is given back when a stream ends.
    await streams[0]!.close();
    await expect
      .poll(async () => {
        const again = subscribeSse(origin, headers, events.query);
        await again.ready;
        const refused = again.received.error !== undefined;
        await again.close();
        return refused;
      })
      .toBe(false);
    await streams[1]!.close();
  });

  it('should close a WebSocket whose frame is larger than the body limit, without reading it', async () => {
    const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(2_000_000) } }));
    expect(await closed).toBe(1009);
    // The gateway is still there for everyone else.
    expect(verdict(await overHttp(origin, key('reader'), { query: '{ __typename }' }))).toBe('ok');
  });

  it("should keep an access token's private cache entries apart from the API-key client with the same id", async () => {
    const email = stack.world.customers[0]!.person.email;
    const body = {
      query: 'query P($email: String!) { customer(email: $email) { id email } }',
      variables: { email },
    };
    const first = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key('pii-reader') },
      body: JSON.stringify(body),
    });
    expect(first.status).toBe(200);
    // Same id, same scopes, another kind of credential: another principal.
    const token = await issuer.token({ client_id: 'pii-reader', scope: 'crm:read pii:read' });
    const second = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    expect(second.status).toBe(200);
    expect(second.headers.get('age')).toBeNull();
    expect(second.headers.get('cache-control')).toMatch(/private/);
    // ...while the API-key client's own repeat is served from its entry.
    const repeat = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...key('pii-reader') },
      body: JSON.stringify(body),
    });
    expect(repeat.headers.get('age')).not.toBeNull();
  });

  it('should have written nothing to the console while refusing all of the above', () => {
    expect({
      error: console.error.mock.calls,
      warn: console.warn.mock.calls,
      log: console.log.mock.calls,
    }).toEqual({ error: [], warn: [], log: [] });
  });
});
