import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PlannedKeyFields } from '../../gateway/auth/planned-keys.js';
import type { GatewayContext } from '../../gateway/context.js';
import { headersObject, SubgraphDataSource } from '../../gateway/subgraph-data-source.js';
import { closeSubgraphAgents, createSubgraphAgents } from '../../gateway/subgraph-http.js';
import {
  bodyHash,
  createGatewayTokenVerifier,
  generateGatewayKeys,
  GatewayTokenSigner,
} from '../../lib/auth/gateway-token.js';
import { readDeclarations } from '../../lib/auth/requirements.js';
import { quietLogger } from '../../lib/logger.js';
import { createRequestContext, DEADLINE_HEADER, REQUEST_ID_HEADER } from '../../lib/request-context.js';

type ProcessOptions = GraphQLDataSourceProcessOptions<GatewayContext>;

/** Apollo's request kinds (its enum is not exported at run time from the package's entry). */
const INCOMING_OPERATION = 'incoming operation';
const HEALTH_CHECK = 'health check';

/** What the planner sends crm for a page of customers joined to email by `email`. */
const CRM_FETCH =
  'query Joined__crm__0 { customers(first: 2) { edges { node { __typename id email lifecycleStage } } } }';
/** The client's operation: it does not select `email`, so the planner added it (`planned`). */
const CLIENT_OPERATION =
  'query Joined { customers(first: 2) { edges { node { id lifecycleStage emailSubscription { status } } } } }';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A subgraph stand-in on a free port: records each request and answers as the test says. */
function tinySubgraph() {
  const received: Received[] = [];
  let answer: (response: ServerResponse) => void = (response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ data: { customers: { edges: [] } } }));
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(response);
    });
  });
  return {
    received,
    server,
    answerWith(next: (response: ServerResponse) => void) {
      answer = next;
    },
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
  };
}

/** Options as Apollo's executor passes them for one fetch of a client's operation. */
function incomingFetch(options: { budgetMs?: number; cachePolicy?: object } = {}): ProcessOptions {
  const document = parse(CLIENT_OPERATION);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const context: GatewayContext = {
    request: createRequestContext(quietLogger, 'req-subgraph-test', options.budgetMs ?? 5_000),
    client: { id: 'personalization-service', scopes: ['crm:read', 'email:read'], via: 'api-key' },
  };
  return {
    kind: INCOMING_OPERATION,
    request: { query: CRM_FETCH, variables: {} },
    context,
    incomingRequestContext: {
      context,
      document,
      operation,
      overallCachePolicy: options.cachePolicy,
    },
  } as unknown as ProcessOptions;
}

/** A cache policy that records the hints `process` narrows it by (Apollo's `restrict` surface). */
function recordingCachePolicy() {
  const hints: unknown[] = [];
  return { hints, policy: { restrict: (hint: unknown) => hints.push(hint) } };
}

describe('the subgraph data source', () => {
  const subgraph = tinySubgraph();
  const agents = createSubgraphAgents({ maxSockets: 8, idleMs: 1_000 });
  const supergraph = parse(readFileSync('schema/supergraph.graphql', 'utf8'));
  const plannedKeys = new PlannedKeyFields(supergraph, readDeclarations(supergraph));
  let signer: GatewayTokenSigner;
  let verify: (token: string) => ReturnType<ReturnType<typeof createGatewayTokenVerifier>>;
  const source = (url: string | (() => string) = subgraph.url(), timeoutMs = 10_000) =>
    new SubgraphDataSource({ name: 'crm', url, timeoutMs, agents, signer, plannedKeys });

  beforeAll(async () => {
    await new Promise<void>((resolve) => subgraph.server.listen(0, '127.0.0.1', resolve));
    const keys = await generateGatewayKeys('kid-subgraph-test');
    signer = new GatewayTokenSigner(keys.privateJwk);
    verify = createGatewayTokenVerifier({ jwks: keys.publicJwks, audience: 'crm' });
  });
  afterEach(() => {
    subgraph.received.length = 0;
    subgraph.answerWith((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { customers: { edges: [] } } }));
    });
  });
  afterAll(async () => {
    subgraph.server.closeAllConnections();
    await new Promise((resolve) => subgraph.server.close(resolve));
    closeSubgraphAgents(agents);
  });

  it('should send the request id, the deadline left and a caller token signed over the exact body', async () => {
    const result = await source().process(incomingFetch({ budgetMs: 4_000 }));
    expect(result.data).toEqual({ customers: { edges: [] } });
    const [request] = subgraph.received;
    expect(request?.headers[REQUEST_ID_HEADER]).toBe('req-subgraph-test');
    expect(request?.headers['content-type']).toBe('application/json');
    const deadlineMs = Number(request?.headers[DEADLINE_HEADER]);
    expect(deadlineMs).toBeGreaterThan(0);
    expect(deadlineMs).toBeLessThan(4_000);
    // The header that ties a fetch to its operation inside the gateway never leaves it.
    expect(Object.keys(request?.headers ?? {}).filter((h) => h.startsWith('x-gateway'))).toEqual([]);
    expect(JSON.parse(request!.body)).toMatchObject({ query: CRM_FETCH });

    const authorization = String(request?.headers.authorization);
    expect(authorization).toMatch(/^Bearer /);
    const token = await verify(authorization.slice('Bearer '.length));
    expect(token.bodyHash).toBe(bodyHash(request!.body));
    expect(token.bodyHash).not.toBe(bodyHash(`${request!.body} `));
    expect(token.caller.clientId).toBe('personalization-service');
    expect(token.caller.scopes).toEqual(['crm:read', 'email:read']);
    expect([...(token.caller.planned ?? [])]).toEqual(['Customer.email']);
  });

  it("should sign the gateway's own token, without scopes, for a health check", async () => {
    await source().process({
      kind: HEALTH_CHECK,
      request: { query: '{ __typename }' },
      context: {},
    } as unknown as ProcessOptions);
    const [request] = subgraph.received;
    expect(request?.headers[REQUEST_ID_HEADER]).toBeUndefined();
    const token = await verify(String(request?.headers.authorization).slice('Bearer '.length));
    expect(token.caller).toMatchObject({ clientId: 'gateway', scopes: [] });
    expect(token.bodyHash).toBe(bodyHash(request!.body));
  });

  it('should call a URL given as a function where it points at fetch time', async () => {
    let url = 'http://127.0.0.1:1/graphql';
    const data = source(() => url);
    url = subgraph.url();
    const result = await data.process(incomingFetch());
    expect(result.errors).toBeUndefined();
    expect(subgraph.received).toHaveLength(1);
  });

  it("should give up at the request's deadline and put DOWNSTREAM_SERVICE_ERROR at each lost field", async () => {
    // The subgraph never answers: only the deadline (far sooner than the 10 s timeout) ends the fetch.
    subgraph.answerWith(() => undefined);
    const result = await source().process(incomingFetch({ budgetMs: 200 }));
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      {
        message: 'The crm subgraph did not answer in time.',
        path: ['customers'],
        extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm' },
      },
    ]);
  });

  it('should give up after SUBGRAPH_TIMEOUT_MS when that comes before the deadline', async () => {
    subgraph.answerWith(() => undefined);
    const result = await source(subgraph.url(), 200).process(incomingFetch({ budgetMs: 10_000 }));
    expect(result.errors).toEqual([
      {
        message: 'The crm subgraph did not answer in time.',
        path: ['customers'],
        extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm' },
      },
    ]);
  });

  it('should read an answer sent in pieces, a character split across two of them', async () => {
    const answer = Buffer.from(
      JSON.stringify({ data: { customers: { edges: [{ node: { id: 'c1', name: 'Zoë Ångström' } }] } } }),
    );
    // Cut inside the two bytes of "ë", and send the halves apart.
    const cut = answer.indexOf(Buffer.from('ë')) + 1;
    subgraph.answerWith((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(answer.subarray(0, cut));
      setTimeout(() => response.end(answer.subarray(cut)), 20);
    });
    const result = await source().process(incomingFetch());
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ customers: { edges: [{ node: { id: 'c1', name: 'Zoë Ångström' } }] } });
  });

  it('should reuse one connection for fetches one after another', async () => {
    const ports = new Set<number>();
    const record = (request: IncomingMessage) => ports.add(request.socket.remotePort ?? 0);
    subgraph.server.on('request', record);
    const data = source();
    for (let i = 0; i < 3; i++) expect((await data.process(incomingFetch())).errors).toBeUndefined();
    subgraph.server.off('request', record);
    expect(ports.size).toBe(1);
  });

  it('should not call the subgraph once the deadline has passed', async () => {
    const result = await source().process(incomingFetch({ budgetMs: -1 }));
    expect(result.errors?.[0]).toMatchObject({
      message: "The crm subgraph was not asked: the request's deadline had passed.",
      path: ['customers'],
      extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm' },
    });
    expect(subgraph.received).toHaveLength(0);
  });

  it("should keep a non-2xx answer's coded GraphQL error, naming the subgraph", async () => {
    subgraph.answerWith((response) => {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          errors: [
            { message: 'Variable "$first" got invalid value -1.', extensions: { code: 'BAD_USER_INPUT' } },
          ],
        }),
      );
    });
    const result = await source().process(incomingFetch());
    expect(result.errors).toEqual([
      {
        message: 'Variable "$first" got invalid value -1.',
        path: ['customers'],
        extensions: { code: 'BAD_USER_INPUT', subgraph: 'crm' },
      },
    ]);
  });

  it('should answer a non-2xx without GraphQL errors with the status, not the body', async () => {
    subgraph.answerWith((response) => {
      response.writeHead(502, { 'content-type': 'text/html' });
      response.end('<html>Bad gateway at 10.0.0.7</html>');
    });
    const result = await source().process(incomingFetch());
    expect(result.errors).toEqual([
      {
        message: 'The crm subgraph answered HTTP 502.',
        path: ['customers'],
        extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm', status: 502 },
      },
    ]);
  });

  it('should treat a 2xx body that is not JSON as a failed fetch, whatever its Content-Type', async () => {
    for (const contentType of ['text/html', 'application/json']) {
      subgraph.answerWith((response) => {
        response.writeHead(200, { 'content-type': contentType });
        response.end('<html>maintenance</html>');
      });
      const result = await source().process(incomingFetch());
      expect(result.errors).toEqual([
        {
          message: 'The crm subgraph answered with a body that is not a GraphQL response.',
          path: ['customers'],
          extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm' },
        },
      ]);
    }
  });

  it('should say a subgraph that refuses connections could not be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await source(`http://127.0.0.1:${port}/graphql`).process(incomingFetch());
    expect(result.errors?.[0]).toMatchObject({
      message: 'The crm subgraph could not be reached.',
      extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', subgraph: 'crm' },
    });
  });

  it("should narrow the operation's cache policy by the subgraph's Cache-Control", async () => {
    subgraph.answerWith((response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=30, private' });
      response.end(JSON.stringify({ data: { customers: { edges: [] } } }));
    });
    const narrowed = recordingCachePolicy();
    await source().process(incomingFetch({ cachePolicy: narrowed.policy }));
    expect(narrowed.hints).toEqual([{ maxAge: 30, scope: 'PRIVATE' }]);

    // No Cache-Control: the answer may not be cached at all.
    subgraph.answerWith((response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { customers: { edges: [] } } }));
    });
    const uncached = recordingCachePolicy();
    await source().process(incomingFetch({ cachePolicy: uncached.policy }));
    expect(uncached.hints).toEqual([{ maxAge: 0 }]);
  });
});

describe('headersObject', () => {
  it("should give a fetch's headers as Object.fromEntries does, from Apollo's node-fetch Headers and from any iterable", async () => {
    const { createRequire } = await import('node:module');
    // The Headers class Apollo Gateway builds each fetch's headers with.
    const fromGateway = createRequire(createRequire(import.meta.url).resolve('@apollo/gateway'));
    const { Headers } = fromGateway('node-fetch') as {
      Headers: new (init?: Record<string, string>) => Iterable<[string, string]> & {
        append(name: string, value: string): void;
        raw(): Record<string, string[]>;
      };
    };
    const headers = new Headers({ 'Content-Type': 'application/json', 'X-Request-Id': 'r-1' });
    headers.append('x-request-id', 'r-2');
    headers.append('Apollographql-Client-Name', 'bench');
    const expected = Object.fromEntries(headers);
    expect(expected).toEqual({
      'apollographql-client-name': 'bench',
      'content-type': 'application/json',
      'x-request-id': 'r-1, r-2',
    });
    expect(headersObject(headers)).toEqual(expected);
    expect(headersObject(new Map([['accept', 'application/json']]))).toEqual({ accept: 'application/json' });
    // Read, not changed.
    expect(headers.raw()['X-Request-Id']).toEqual(['r-1', 'r-2']);
  });
});
