import { createRequire } from 'node:module';
import { Keyv } from 'keyv';
import type * as KeyvRedisModule from '@keyv/redis';
import type { Logger } from '../logger.js';
import { BoundedMap } from './bounded-map.js';
import { cacheMetrics } from './metrics.js';

export interface CacheStoreOptions {
  /** `redis://...` to share entries between processes; unset keeps them in this process's memory. */
  redisUrl?: string | undefined;
  /** Entries kept in memory before the least recently used is evicted (memory store only). */
  maxEntries: number;
  /** Prefix of every key, so several products can share one Redis. @default 'mg' */
  namespace?: string;
  /** A cache call slower than this is abandoned and treated as a miss. @default 150 */
  timeoutMs?: number;
  logger: Logger;
}

/**
 * A key-value cache that never fails its caller: when Redis is down or slow, reads are misses and
 * writes are dropped, with a warning at most every 10 s and a counter, so a cache outage costs
 * upstream calls, never an error to a client.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** Prefix of every key this store writes (`<namespace>:`). */
  readonly namespace: string;
  /** The underlying Keyv, for adapters (the gateway's response cache) that wrap it themselves. */
  readonly keyv: Keyv;
  /** The Redis connection, for atomic operations Keyv has no verb for (shared rate limits). */
  readonly redis?: RedisConnection;
  get<T>(key: string): Promise<T | undefined>;
  getMany<T>(keys: readonly string[]): Promise<(T | undefined)[]>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cache operation took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What other parts may do with the store's Redis connection: run a script atomically. */
export interface RedisConnection {
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/**
 * The Redis client (@keyv/redis and @redis/client, some 1,300 modules and ~20 MB of a process's
 * memory), loaded only when a store is given a Redis URL: a process with the in-memory store never
 * loads it. Loaded synchronously (its CommonJS build) because a store is handed on synchronously:
 * Apollo's response cache and the rate limiter take the store's Keyv as it is, when built.
 */
function loadRedisModule(): typeof KeyvRedisModule {
  return createRequire(import.meta.url)('@keyv/redis') as typeof KeyvRedisModule;
}

export function createCacheStore(options: CacheStoreOptions): CacheStore {
  const namespace = options.namespace ?? 'mg';
  const timeoutMs = options.timeoutMs ?? 150;
  let keyv: Keyv;
  let kind: CacheStore['kind'];
  let closeClient: () => Promise<void> = async () => {};
  let redis: RedisConnection | undefined;
  /** Resolves once the store can take commands (at once in memory). */
  let ready: () => Promise<void> = () => Promise.resolve();
  if (options.redisUrl) {
    kind = 'redis';
    const { createClient, default: KeyvRedis } = loadRedisModule();
    const client = createClient({
      url: options.redisUrl,
      // Fail commands at once while disconnected instead of queueing them behind a dead server.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 1_000,
        reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5_000),
      },
    });
    let lastWarning = 0;
    client.on('error', (error: Error) => {
      if (Date.now() - lastWarning > 10_000) {
        lastWarning = Date.now();
        options.logger.warn(
          { err: { message: error.message } },
          'redis cache unavailable; serving from upstream',
        );
      }
    });
    // Every operation waits for the connection first. Keyv opens the client on its first use only,
    // and with the offline queue disabled the calls made while it connects fail ("The client is
    // offline"): a burst of writes at start-up would be lost. The shared rate limiter runs its
    // script on the client directly, possibly first, and a client never opened answers "The client
    // is closed" forever. One wait is shared by every caller (one 'ready' listener, not one each).
    let connecting: Promise<void> | undefined;
    ready = () => {
      if (client.isReady) return Promise.resolve();
      if (!client.isOpen) client.connect().catch(() => undefined);
      connecting ??= new Promise<void>((resolve) =>
        client.once('ready', () => {
          connecting = undefined;
          resolve();
        }),
      );
      return connecting;
    };
    const waitForReady = ready;
    redis = {
      eval: async (script, evalOptions) => {
        await withTimeout(waitForReady(), timeoutMs * 4).catch(() => undefined);
        return client.eval(script, evalOptions);
      },
    };
    const store = new KeyvRedis(client, { throwOnConnectError: false, throwOnErrors: true });
    store.on('error', () => undefined);
    keyv = new Keyv({ store, namespace, throwOnErrors: true, useKeyPrefix: false });
    closeClient = async () => {
      if (client.isOpen) await client.close();
    };
  } else {
    kind = 'memory';
    keyv = new Keyv({
      store: new BoundedMap<string, unknown>(options.maxEntries),
      namespace,
      useKeyPrefix: false,
    });
  }
  // Failures are reported by `guarded` below; Keyv would also print its error events to stderr.
  keyv.on('error', () => undefined);
  const prefix = `${namespace}:`;

  let lastWarning = 0;
  async function guarded<T>(operation: string, run: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await withTimeout(
        ready().then(() => run()),
        timeoutMs,
      );
    } catch (error) {
      cacheMetrics.errors.inc({ store: kind, operation });
      if (Date.now() - lastWarning > 10_000) {
        lastWarning = Date.now();
        options.logger.warn(
          { operation, store: kind, err: { message: (error as Error).message } },
          'cache operation failed; treated as a miss',
        );
      }
      return fallback;
    }
  }

  return {
    kind,
    namespace,
    keyv,
    ...(redis ? { redis } : {}),
    get: <T>(key: string) =>
      guarded('get', () => keyv.get<T>(prefix + key) as Promise<T | undefined>, undefined),
    getMany: <T>(keys: readonly string[]) =>
      keys.length === 0
        ? Promise.resolve([])
        : guarded(
            'getMany',
            () => keyv.getMany<T>(keys.map((k) => prefix + k)) as Promise<(T | undefined)[]>,
            keys.map(() => undefined),
          ),
    set: (key, value, ttlMs) =>
      guarded('set', () => keyv.set(prefix + key, value, ttlMs).then(() => undefined), undefined),
    delete: (key) => guarded('delete', () => keyv.delete(prefix + key).then(() => undefined), undefined),
    close: closeClient,
  };
}
