import type { Fetcher, FetcherOpts, FetcherParams, FetcherReturnType } from '@graphiql/toolkit';
import { getOperationAST, parse, type DocumentNode } from 'graphql';
import { createClient, type Client } from 'graphql-ws/client';
import { INTROSPECTION_OPERATION, schemaAccessFrom, type SchemaAccess } from './schema-access.js';

export interface ExplorerFetcherOptions {
  /** The GraphQL endpoint, absolute (`http://host/graphql`): HTTP POST, and graphql-ws on ws(s). */
  endpoint: URL;
  /** Told what each introspection answer means, so the page can say why there is no schema. */
  onSchemaAccess(access: SchemaAccess): void;
}

/** A GraphQL response as JSON carries it (the toolkit's types want GraphQLError instances). */
interface Result {
  data?: unknown;
  errors?: readonly unknown[] | undefined;
}

/** Header values as the browser can send them; the editor's JSON may hold numbers or booleans. */
function sendableHeaders(headers: FetcherOpts['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[name] = String(value);
  }
  return out;
}

function isSubscription(params: FetcherParams, documentAST: DocumentNode | undefined): boolean {
  let document = documentAST;
  if (!document) {
    try {
      document = parse(params.query);
    } catch {
      return false; // the gateway reports the syntax error
    }
  }
  return getOperationAST(document, params.operationName ?? undefined)?.operation === 'subscription';
}

function errorResult(message: string): Result {
  return { errors: [{ message }] };
}

/** One graphql-ws connection at a time, opened with the headers of the latest subscription. */
class SocketConnection {
  private client: Client | undefined;
  private key = '';

  constructor(private readonly url: string) {}

  for(headers: Record<string, string>): Client {
    const key = JSON.stringify(headers);
    if (!this.client || key !== this.key) {
      // New credentials need a new `connection_init`; subscriptions on the old socket end.
      void this.client?.dispose();
      this.client = createClient({ url: this.url, connectionParams: headers, lazy: true, retryAttempts: 0 });
      this.key = key;
    }
    return this.client;
  }
}

/** Says in words why a subscription's socket ended: graphql-ws rejects with a close event or errors. */
function describeSocketFailure(error: unknown): Result {
  if (Array.isArray(error)) return { errors: error };
  const close = error as { code?: unknown; reason?: unknown } | null;
  if (close && typeof close.code === 'number') {
    const reason = typeof close.reason === 'string' && close.reason ? close.reason : 'no reason given';
    const hint =
      close.code === 4403 || close.code === 4401
        ? ' The gateway did not accept the key in the Headers tab.'
        : '';
    return errorResult(`The subscription's WebSocket closed (${close.code}: ${reason}).${hint}`);
  }
  return errorResult(`The subscription failed: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * The subscription's results. Not an async generator: a generator's `return()` waits for the
 * pending `next()` (the next event, maybe never), while GraphiQL's stop button must end the
 * subscription at once, so `return()` goes straight to graphql-ws, which sends `complete`.
 */
function subscribe(client: Client, params: FetcherParams): AsyncIterableIterator<Result> {
  const results = client.iterate({
    query: params.query,
    ...(params.operationName ? { operationName: params.operationName } : {}),
    ...(params.variables ? { variables: params.variables as Record<string, unknown> } : {}),
  });
  let ended = false;
  const finished = (): IteratorResult<Result> => ({ done: true, value: undefined });
  return {
    async next() {
      if (ended) return finished();
      try {
        return await results.next();
      } catch (error) {
        // The failure is shown as one last result, then the iteration ends.
        ended = true;
        return { done: false, value: describeSocketFailure(error) };
      }
    },
    async return() {
      ended = true;
      await results.return?.();
      return finished();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * GraphiQL's fetcher: queries and mutations as HTTP POSTs with the Headers editor's headers,
 * subscriptions over graphql-ws on the same path with those headers as `connectionParams` (the
 * gateway authenticates a socket once, at `connection_init`). Answers that are not GraphQL (a
 * proxy's error page) become a GraphQL error that says so, never a blank result pane.
 */
export function createExplorerFetcher(options: ExplorerFetcherOptions): Fetcher {
  const socketUrl = new URL(options.endpoint);
  socketUrl.protocol = socketUrl.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new SocketConnection(socketUrl.href);
  // Only the latest introspection speaks: a slow answer for an old key must not overwrite it.
  let latestIntrospection = 0;

  const post = async (params: FetcherParams, headers: Record<string, string>): Promise<Result> => {
    const introspection = params.operationName === INTROSPECTION_OPERATION ? ++latestIntrospection : 0;
    let response: Response;
    try {
      response = await fetch(options.endpoint, {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
        },
        body: JSON.stringify({
          query: params.query,
          operationName: params.operationName ?? undefined,
          variables: params.variables ?? undefined,
        }),
        credentials: 'omit',
      });
    } catch (error) {
      const message = `The request was not sent: ${(error as Error).message}. Check the names and values in the Headers tab`;
      if (introspection > 0 && introspection === latestIntrospection)
        options.onSchemaAccess({ kind: 'failed', detail: message });
      return errorResult(`${message}.`);
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = errorResult(`The gateway answered HTTP ${response.status} with something other than GraphQL.`);
    }
    if (introspection > 0 && introspection === latestIntrospection)
      options.onSchemaAccess(schemaAccessFrom({ status: response.status, body }, headers));
    return body as Result;
  };

  return (params, opts) => {
    const headers = sendableHeaders(opts?.headers);
    const result = isSubscription(params, opts?.documentAST)
      ? subscribe(socket.for(headers), params)
      : post(params, headers);
    // GraphiQL only formats what it receives; plain JSON errors are what the wire carries.
    return result as unknown as FetcherReturnType;
  };
}
