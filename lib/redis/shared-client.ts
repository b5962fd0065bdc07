import type { createClient } from '@keyv/redis';

export type RedisClient = ReturnType<typeof createClient>;

/** Quick tries before opening gives up. */
const OPEN_RETRIES = 3;

/**
 * A connected client for a store that processes share (event log, delivery store, action outbox,
 * syncs' state). Opening fails after a few quick tries, so a process does not start on a store it
 * cannot reach; once connected, the client reconnects for as long as it takes. Throws what the
 * connection failed with; callers say which store could not open.
 */
export async function connectSharedRedis(options: {
  url: string;
  /** Fail commands at once while disconnected instead of queueing them. @default false */
  disableOfflineQueue?: boolean;
  /**
   * Connection errors. @default ignored: each command rejects to its caller anyway; a listener
   * only keeps the emitter from throwing.
   */
  onError?: (error: unknown) => void;
}): Promise<RedisClient> {
  let connected = false;
  // Loaded here, not at the top: a process whose stores are not on Redis never loads the client
  // (some 1,300 modules, ~20 MB of memory).
  const { createClient } = await import('@keyv/redis');
  const client: RedisClient = createClient({
    url: options.url,
    ...(options.disableOfflineQueue ? { disableOfflineQueue: true } : {}),
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number, cause: Error) =>
        !connected && retries >= OPEN_RETRIES ? cause : Math.min(100 * 2 ** retries, 5_000),
    },
  });
  client.on('error', options.onError ?? (() => undefined));
  await client.connect();
  connected = true;
  return client;
}
