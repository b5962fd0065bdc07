import type { ApolloGateway } from '@apollo/gateway';
import { objectKey } from '../../lib/cache/object-keys.js';
import type { GatewayContext } from '../context.js';
import { clientKey, scopeKey } from '../identity.js';

type Gateway = Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'>;
type Executor = NonNullable<Awaited<ReturnType<ApolloGateway['load']>>['executor']>;
type ExecutionContext = Parameters<Executor>[0];
type ExecutionResult = Awaited<ReturnType<Executor>>;
type CacheHint = { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' };
type CachePolicy = CacheHint & { restrict?(hint: CacheHint): void };

interface Shared {
  result: ExecutionResult;
  /** The leader's cache policy once its subgraph calls narrowed it. */
  hint: CacheHint;
}

/** The operation's text in a coalescing key: its parsed document's key (`objectKey`), else the text. */
function textKey(requestContext: ExecutionContext): string {
  const document = requestContext.document as object | undefined;
  return document ? `document:${objectKey(document)}` : `text:${requestContext.source ?? ''}`;
}

/**
 * In-flight coalescing: while a query is being executed for a client, the same query (same text,
 * operation name and variables) from the same client with the same scopes and deadline waits for that execution
 * instead of planning and fetching again. Only execution is shared: every request still passes
 * authentication, its rate limit, the field permissions, the operation limits and the log, and
 * gets its own response. Nothing outlives the execution (this is not a cache), and nothing is
 * shared between clients.
 *
 * - A mutation from a client ends the sharing of that client's queries already in flight, so a query
 *   sent after the mutation never gets an answer computed before it.
 * - Followers share the leader's `data` object. The only plugin that edits it (the authorization
 *   plugin putting nulls where the gate removed fields) makes the same edit for every request with
 *   this key, since the key holds the scopes and the gate's rewritten text; errors are formatted per
 *   request by Apollo Server.
 * - A follower's cache policy is narrowed as the leader's was, so its Cache-Control header and the
 *   response cache treat both alike.
 */
export function coalesceQueries(gateway: Gateway): Gateway {
  const inFlight = new Map<string, Promise<Shared>>();
  const keysOfClient = new Map<string, Set<string>>();

  const forget = (client: string, key: string, entry: Promise<Shared>) => {
    if (inFlight.get(key) === entry) inFlight.delete(key);
    const keys = keysOfClient.get(client);
    keys?.delete(key);
    if (keys?.size === 0) keysOfClient.delete(client);
  };

  const coalescing =
    (execute: Executor): Executor =>
    async (requestContext: ExecutionContext) => {
      const context = requestContext.context as Partial<GatewayContext>;
      const client = context.client;
      // Apollo resolves the operation before executing; this guards the shape, not a real case.
      const kind = requestContext.operation?.operation;
      if (!client || kind !== 'query') {
        if (client && kind === 'mutation') {
          for (const key of keysOfClient.get(clientKey(client)) ?? []) inFlight.delete(key);
          keysOfClient.delete(clientKey(client));
        }
        return execute(requestContext);
      }
      const key =
        `${clientKey(client)}\n${scopeKey(client)}\n` +
        // A shorter deadline must not wait on a longer one's execution, nor a longer one inherit
        // a shorter one's deadline errors.
        `${context.budgetMs ?? ''}\n${requestContext.operationName ?? ''}\n` +
        `${JSON.stringify(requestContext.request.variables ?? {})}\n${textKey(requestContext)}`;
      const policy = requestContext.overallCachePolicy as CachePolicy | undefined;
      const running = inFlight.get(key);
      if (running) {
        const shared = await running;
        if (shared.hint.maxAge !== undefined) policy?.restrict?.(shared.hint);
        return shared.result;
      }
      const entry = execute(requestContext).then((result) => ({
        result,
        hint: {
          ...(policy?.maxAge !== undefined ? { maxAge: policy.maxAge } : {}),
          ...(policy?.scope !== undefined ? { scope: policy.scope } : {}),
        },
      }));
      inFlight.set(key, entry);
      let keys = keysOfClient.get(clientKey(client));
      if (!keys) keysOfClient.set(clientKey(client), (keys = new Set()));
      keys.add(key);
      try {
        return (await entry).result;
      } finally {
        forget(clientKey(client), key, entry);
      }
    };

  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const loaded = await gateway.load(options);
      return loaded.executor ? { ...loaded, executor: coalescing(loaded.executor) } : loaded;
    },
  };
}

type FormattedResult = { data?: unknown; errors?: unknown; extensions?: unknown };

/**
 * Apollo Server's `stringifyResult` (its own is `JSON.stringify(value) + '\n'`), serialising a
 * result's `data` once however many coalesced requests share it. Only results without errors or
 * extensions are remembered, keyed by the `data` object itself (held weakly), so a response is
 * never served another's text: requests share a `data` object only when they share an execution.
 *
 * Without Apollo's trailing newline: the HTTP transport writes it after the text
 * (transports/http.ts). Appending it here made every answer a two-part string that V8 copied
 * whole into a second one (87 KB for the benchmark's answer) the first time it was compared or
 * encoded, one more large allocation per execution living as long as the response.
 */
export function serialiseSharedResults(): (value: FormattedResult) => string {
  const texts = new WeakMap<object, string>();
  return (value) => {
    const { data } = value;
    if (value.errors !== undefined || value.extensions !== undefined || !data || typeof data !== 'object')
      return JSON.stringify(value);
    let text = texts.get(data);
    if (text === undefined) {
      text = JSON.stringify(value);
      texts.set(data, text);
    }
    return text;
  };
}
