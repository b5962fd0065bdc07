import { createHash } from 'node:crypto';
import {
  HeaderMap,
  type ApolloServerPlugin,
  type GraphQLRequestContext,
  type GraphQLResponse,
} from '@apollo/server';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { PrefixingKeyValueCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import { cacheMetrics } from '../../lib/cache/metrics.js';
import type { CacheStore } from '../../lib/cache/store.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import { clientKey, scopeKey } from '../identity.js';
import { z } from 'zod';

/**
 * The response cache's view of the store: every call bounded by a timeout, and every failure (Redis
 * down, slow, refusing writes) a miss or a dropped write, counted and logged at most every 10 s.
 * (ErrorsAreMissesCache only guards reads; a failed write would surface as an error.)
 */
class ResilientCache implements KeyValueCache<string> {
  private lastWarning = 0;

  constructor(
    private readonly inner: KeyValueCache<string>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  private async guard<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`took longer than ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      cacheMetrics.errors.inc({ store: 'response', operation });
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          { operation, err: { message: (error as Error).message } },
          'response cache unavailable; answering without it',
        );
      }
      return fallback;
    } finally {
      clearTimeout(timer);
    }
  }

  get(key: string) {
    return this.guard('get', () => this.inner.get(key), undefined);
  }
  set(key: string, value: string, options?: { ttl?: number | null }) {
    return this.guard('set', () => this.inner.set(key, value, options), undefined);
  }
  delete(key: string) {
    return this.guard('delete', () => this.inner.delete(key).then(() => undefined), undefined);
  }
}

/**
 * What Apollo's response-cache plugin stores per entry (`JSON.stringify`-ed). Read back through
 * zod: the store is shared with other instances and versions, so an entry of another shape is a miss.
 */
const storedEntrySchema = z.object({
  data: z.record(z.string(), z.unknown()),
  cachePolicy: z.object({ maxAge: z.number(), scope: z.enum(['PUBLIC', 'PRIVATE']).exactOptional() }),
  cacheTime: z.number(),
});
type StoredEntry = z.output<typeof storedEntrySchema>;

/** The plugin's session modes (its key data holds the number). */
const SESSION_MODE = { none: 0, private: 1, authenticatedPublic: 2 } as const;

/** The plugin's default key: sha256 of the key data's JSON. Given to it explicitly so both sides agree. */
function cacheKeyOf(_: unknown, keyData: unknown): string {
  return createHash('sha256').update(JSON.stringify(keyData)).digest('hex');
}

/**
 * Entries read recently, kept parsed until they expire, bounded by the size of their JSON. Hits
 * then cost neither a store round trip nor a parse, and every hit on one entry shares one `data`
 * object, so the response is serialised once (see serialiseSharedResults). An entry never changes
 * in the store before it expires (nothing rewrites or invalidates response-cache entries), so
 * keeping it here until then answers what the store would.
 */
class ParsedEntries {
  private readonly entries = new Map<string, { entry: StoredEntry; size: number; expiresAt: number }>();
  private size = 0;

  constructor(private readonly maxChars: number) {}

  get(key: string, now: number): StoredEntry | undefined {
    const found = this.entries.get(key);
    if (!found) return undefined;
    if (found.expiresAt <= now) {
      this.drop(key);
      return undefined;
    }
    return found.entry;
  }

  set(key: string, entry: StoredEntry, size: number): void {
    const expiresAt = entry.cacheTime + entry.cachePolicy.maxAge * 1000;
    if (size > this.maxChars / 4 || expiresAt <= Date.now()) return;
    this.drop(key);
    this.entries.set(key, { entry, size, expiresAt });
    this.size += size;
    for (const oldest of this.entries.keys()) {
      if (this.size <= this.maxChars) break;
      this.drop(oldest);
    }
  }

  private drop(key: string): void {
    const found = this.entries.get(key);
    if (!found) return;
    this.entries.delete(key);
    this.size -= found.size;
  }
}

/**
 * Whole-response cache at the gateway, driven by the `@cacheControl` hints the subgraphs declare
 * (the gateway reads them from each subgraph's Cache-Control header and keeps the most restrictive).
 * - PRIVATE responses (personal data) are cached per client and never served to another; an
 *   anonymous caller's PRIVATE responses are not cached at all.
 * - Every entry is also keyed by the caller's scope set, so a response built for one set of
 *   permissions is never served to a caller with another.
 * - Responses with errors are never cached (the plugin's rule); `Age` is set on hits.
 * - A cache outage is a miss: errors and calls slower than 150 ms are counted, logged and ignored.
 *
 * Apollo's plugin writes the entries; reads are done here, with the same keys, through a small
 * in-process set of parsed entries (ParsedEntries), because under load the plugin's read path
 * (a store read, a parse and a serialisation of the whole response per hit) cost more than the
 * coalesced execution it replaces (bench/README.md).
 */
export function responseCache(store: CacheStore, logger: Logger): ApolloServerPlugin<GatewayContext> {
  const cache = new ResilientCache(
    new PrefixingKeyValueCache(new KeyvAdapter<string>(store.keyv), `${store.namespace}:rc:`),
    150,
    logger.child({ component: 'response-cache' }),
  );
  // The plugin prefixes its keys with `fqc:` inside the cache it is given; reads use the same view.
  const entries = new PrefixingKeyValueCache(cache, 'fqc:');
  const parsed = new ParsedEntries(8_000_000);
  const sessionIdOf = (client: GatewayContext['client']) =>
    client.via === 'anonymous' ? null : clientKey(client);

  const lookup = async (key: string): Promise<StoredEntry | undefined> => {
    const now = Date.now();
    const known = parsed.get(key, now);
    if (known) return known;
    const text = await entries.get(key);
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const entry = storedEntrySchema.safeParse(json);
    if (!entry.success) return undefined;
    parsed.set(key, entry.data, text.length);
    return entry.data;
  };

  const read = async (
    requestContext: GraphQLRequestContext<GatewayContext>,
  ): Promise<GraphQLResponse | null> => {
    if (requestContext.operation?.operation !== 'query') return null;
    const client = requestContext.contextValue.client;
    // The key data exactly as the plugin builds it (source, operation, variables, extra, session).
    const base = {
      source: requestContext.source,
      operationName: requestContext.operationName,
      variables: { ...(requestContext.request.variables ?? {}) },
      extra: scopeKey(client),
    };
    const sessionId = sessionIdOf(client);
    const candidates =
      sessionId === null
        ? [{ ...base, sessionMode: SESSION_MODE.none }]
        : [
            { ...base, sessionId, sessionMode: SESSION_MODE.private },
            { ...base, sessionMode: SESSION_MODE.authenticatedPublic },
          ];
    for (const keyData of candidates) {
      const entry = await lookup(cacheKeyOf(requestContext, keyData));
      if (!entry) continue;
      requestContext.overallCachePolicy.replace(entry.cachePolicy);
      // Tells the plugin's willSendResponse this was a hit (it then writes nothing).
      requestContext.metrics.responseCacheHit = true;
      const age = Math.max(0, Math.round((Date.now() - entry.cacheTime) / 1000));
      return {
        body: { kind: 'single', singleResult: { data: entry.data } },
        http: { headers: new HeaderMap([['age', String(age)]]) },
      };
    }
    return null;
  };

  const writer = responseCachePlugin<GatewayContext>({
    cache,
    generateCacheKey: cacheKeyOf,
    sessionId: async ({ contextValue }) => sessionIdOf(contextValue.client),
    extraCacheKeyData: async ({ contextValue }) => scopeKey(contextValue.client),
    // Reads are ours (above); the plugin still sets up its keys and writes misses.
    shouldReadFromCache: async () => false,
  });

  return {
    async requestDidStart(requestContext) {
      const listener = await writer.requestDidStart?.(requestContext);
      if (!listener) return undefined;
      return {
        ...listener,
        async responseForOperation(operationContext) {
          const hit = await read(operationContext);
          if (hit) return hit;
          return (await listener.responseForOperation?.(operationContext)) ?? null;
        },
      };
    },
  };
}
