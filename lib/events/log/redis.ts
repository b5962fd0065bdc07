import { randomUUID } from 'node:crypto';
import { RedisScript, runScript } from '../../redis/scripts.js';
import { connectSharedRedis, type RedisClient } from '../../redis/shared-client.js';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { DeliveredEvent, IncomingEvent, StoredEvent } from '../event.js';
import { AsyncGroupCommit } from './async-group-commit.js';
import { parseRedisCursor, redisCursor } from './cursor.js';
import {
  APPEND,
  CLAIM,
  COMPLETE,
  DEAD_LETTERS,
  ENSURE_GROUP,
  FAIL,
  PRUNE,
  REPLAY,
  STATS,
} from './redis-scripts.js';
import {
  decodeChannels,
  decodeEvent,
  deliveredEvent,
  encodeChannels,
  encodeCustomer,
  encodeEvent,
} from './stored-event.js';
import { EventLogOpenError } from './errors.js';
import { checkPersistence, redisContinuity } from './redis-continuity.js';
import type { ClaimedEvent, DeadLetter, EventLog } from './types.js';

export interface RedisEventLogOptions {
  /** `redis://...` of the Redis every gateway instance sharing this log uses. */
  url: string;
  /** Prefix of every key (`{prefix}:inbox`, ...): one log per prefix. */
  prefix: string;
  /**
   * How long a `dedupeKey` is remembered, in ms. Every key costs memory, so it cannot be kept
   * forever; the window only has to outlast the platforms' redeliveries (HubSpot 24 h, Shopify
   * 4 h, Mailchimp 75 min, Standard Webhooks senders about 3 days). A redelivery arriving after
   * it (a manual resend weeks later) is stored and delivered again as a new event.
   * @default 604800000 (7 days)
   */
  dedupeTtlMs?: number;
  logger: Logger;
}

const DAY_MS = 86_400_000;
const GROUP = 'processors';
/** Entries a single prune or replay script handles, so one call never blocks Redis for long. */
const BATCH = 1_000;
/** How long the watch connection's XREAD blocks before asking again (also bounds a stuck close). */
const WATCH_BLOCK_MS = 5_000;

const streamEntries = z.array(z.tuple([z.string(), z.array(z.string())]));
const claimReply = z.array(z.tuple([z.string(), z.string(), z.string()]));
const completeReply = z.union([
  z.tuple([z.literal('ok'), z.string(), z.string()]),
  z.tuple([z.literal('delivered'), z.string(), z.string(), z.string(), z.string(), z.string()]),
  z.tuple([z.enum(['dead', 'pruned', 'unknown'])]),
]);
const failReply = z.enum(['ok', 'delivered', 'dead', 'unknown']);
const deadRecord = z.object({ reason: z.string(), attempts: z.number(), failedAt: z.string() });
const deadLettersReply = z.array(z.tuple([z.string(), z.string(), z.string()]));
const statsReply = z.tuple([z.number(), z.string(), z.number(), z.number(), z.number()]);

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Parses a reply we asked for; a mismatch means a Redis we do not understand, so it throws. */
function parseReply<T>(schema: z.ZodType<T>, reply: unknown, what: string): T {
  const parsed = schema.safeParse(reply);
  if (!parsed.success) {
    throw new Error(`Redis event log: unexpected reply to ${what}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * The distributed event log on Redis Streams, shared by every gateway instance using the same
 * Redis and prefix.
 *
 * Durability is Redis's: `append` returns once Redis has applied the write, and whether that
 * write survives a Redis crash is the operator's AOF setting (`appendonly yes` with
 * `appendfsync always` loses nothing; the default `everysec` may lose up to a second of acks;
 * without AOF, everything since the last RDB snapshot). Opening warns when Redis has no AOF, and a
 * Redis that comes back empty is noticed and the log made usable again (redis-continuity.ts).
 *
 * Claims use the consumer group `processors`: `claim` reads new entries with XREADGROUP (the
 * processor name is the consumer) and takes over entries idle for longer than `visibilityMs` with
 * XAUTOCLAIM, so the visibility a processor asks for is the idle time after which it takes over
 * someone else's claim.
 */
export async function openRedisEventLog(options: RedisEventLogOptions): Promise<EventLog> {
  const prefix = options.prefix;
  const key = (name: string): string => `{${prefix}}:${name}`;
  const keys = {
    inbox: key('inbox'),
    bodies: key('bodies'),
    entries: key('entries'),
    attempts: key('attempts'),
    pending: key('pending'),
    retries: key('retries'),
    dead: key('dead'),
    deadOrder: key('dead-order'),
    deadCount: key('dead-count'),
    delivery: key('delivery'),
    delivered: key('delivered'),
    autoclaim: key('autoclaim'),
    generation: key('generation'),
  };
  const dedupeKey = (value: string): string => key(`dedupe:${value}`);
  const dedupeTtlMs = options.dedupeTtlMs ?? 7 * DAY_MS;

  let lastWarning = 0;
  const warn = (error: unknown, message: string): void => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    options.logger.warn({ err: { message: errorMessage(error) } }, message);
  };

  // Opening fails after a few quick tries (a gateway must not start on a log it cannot reach).
  let client: RedisClient;
  try {
    client = await connectSharedRedis({
      url: options.url,
      // Fail at once while disconnected: an append that cannot be stored must fail (the webhook
      // answers 503 and the platform retries), not wait in a queue past the platform's timeout.
      disableOfflineQueue: true,
      onError: (error) => warn(error, 'redis event log connection error'),
    });
  } catch (error) {
    throw new EventLogOpenError('redis', `cannot connect to Redis: ${errorMessage(error)}`, { cause: error });
  }

  const run = (script: RedisScript, scriptKeys: string[], args: string[], connection: RedisClient = client) =>
    runScript(connection, script, scriptKeys, args);
  const scripts = {
    append: new RedisScript(APPEND),
    claim: new RedisScript(CLAIM),
    complete: new RedisScript(COMPLETE),
    fail: new RedisScript(FAIL),
    deadLetters: new RedisScript(DEAD_LETTERS),
    replay: new RedisScript(REPLAY),
    prune: new RedisScript(PRUNE),
    stats: new RedisScript(STATS),
    ensureGroup: new RedisScript(ENSURE_GROUP),
  };

  const continuity = redisContinuity({
    ensureGroup: (generation) => run(scripts.ensureGroup, [keys.generation, keys.inbox], [generation, GROUP]),
    logger: options.logger,
  });
  try {
    await continuity.open();
  } catch (error) {
    await client.close();
    throw new EventLogOpenError('redis', `cannot be set up in Redis: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  await checkPersistence((args) => client.sendCommand(args), options.logger);
  // Every later 'ready' is a reconnection: Redis may have come back empty.
  client.on('ready', () => {
    continuity
      .recover('reconnected')
      .catch((error: unknown) => warn(error, 'checking the Redis event log after reconnecting failed'));
  });

  // Appends have a connection of their own: what a webhook's ack waits for is its append alone,
  // not the processor's claims and completions queued before it on the shared connection.
  const appendConnection = client.duplicate();
  appendConnection.on('error', (error: unknown) => warn(error, 'redis event log append connection error'));
  try {
    await appendConnection.connect();
  } catch (error) {
    await client.close();
    throw new EventLogOpenError('redis', `cannot connect to Redis: ${errorMessage(error)}`, { cause: error });
  }

  type Appended = { stored: StoredEvent[]; duplicates: number };
  /** Several webhooks' events in one script run (it deduplicates them in order, so within the group too). */
  async function appendGroup(groups: (readonly IncomingEvent[])[]): Promise<Appended[]> {
    const events = groups.flat();
    const ids = events.map(() => randomUUID());
    const args = [String(dedupeTtlMs)];
    events.forEach((event, i) => args.push(ids[i] ?? '', encodeEvent(event)));
    const reply = await run(
      scripts.append,
      [keys.inbox, keys.bodies, keys.entries, keys.pending, ...events.map((e) => dedupeKey(e.dedupeKey))],
      args,
      appendConnection,
    );
    const flags = parseReply(z.array(z.number()), reply, 'append');
    let offset = 0;
    return groups.map((group) => {
      const stored: StoredEvent[] = [];
      group.forEach((event, i) => {
        if (flags[offset + i] === 1) stored.push({ ...event, id: ids[offset + i] ?? '' });
      });
      offset += group.length;
      return { stored, duplicates: group.length - stored.length };
    });
  }
  // The appends of one turn (a burst of webhooks) in one script run: fewer round trips and less
  // work in Redis per webhook, so acks do not queue behind each other's scripts.
  const appends = new AsyncGroupCommit<readonly IncomingEvent[], Appended>(
    appendGroup,
    async (events) => (await appendGroup([events]))[0] ?? { stored: [], duplicates: events.length },
  );

  async function latestEntryId(connection: RedisClient): Promise<string | undefined> {
    const reply = await connection.sendCommand(['XREVRANGE', keys.delivery, '+', '-', 'COUNT', '1']);
    return parseReply(streamEntries, reply, 'XREVRANGE')[0]?.[0];
  }

  function fromDeliveryEntry([entryId, fields]: [string, string[]]): DeliveredEvent {
    // Fields are written by COMPLETE in this order: id, type, event, channels, processedAt, customer.
    const [, id = '', , , , body = '', , channels = '[]', , processedAt = '', , customer = ''] = fields;
    return deliveredEvent(id, body, {
      cursor: redisCursor(entryId),
      channels: decodeChannels(channels),
      processedAt,
      customer,
    });
  }

  // One blocking connection per instance serves every watcher: XREAD on the delivery stream wakes
  // up for entries added by any process. After a wake-up it moves to the newest entry before
  // telling the watchers, so an entry they might miss with their read is always newer than that
  // position and wakes the loop again.
  const watchers = new Set<() => void>();
  let watchConnection: RedisClient | undefined;
  async function watchLoop(connection: RedisClient, start: Promise<string | undefined>): Promise<void> {
    try {
      await watchUntilStopped(connection, await start);
    } finally {
      if (connection.isOpen) connection.destroy();
    }
  }
  async function watchUntilStopped(connection: RedisClient, from: string | undefined): Promise<void> {
    let position = from;
    while (watchConnection === connection) {
      try {
        position ??= (await latestEntryId(connection)) ?? '0-0';
        const reply = await connection.sendCommand([
          'XREAD',
          'COUNT',
          '1',
          'BLOCK',
          String(WATCH_BLOCK_MS),
          'STREAMS',
          keys.delivery,
          position,
        ]);
        if (reply === null || watchConnection !== connection) continue;
        position = (await latestEntryId(connection)) ?? position;
        for (const watcher of watchers) {
          try {
            watcher();
          } catch (error) {
            options.logger.error({ err: { message: errorMessage(error) } }, 'event log watcher threw');
          }
        }
      } catch (error) {
        if (watchConnection !== connection) return;
        warn(error, 'redis event log watch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  function startWatching(): void {
    // Asked on the main connection now, so it is answered before any `complete` this instance
    // sends after `watch` returns: those completions are then newer than the starting position.
    // Undefined when it failed: the loop asks again on its own connection.
    const start = latestEntryId(client).then(
      (id) => id ?? '0-0',
      () => undefined,
    );
    const connection = client.duplicate();
    connection.on('error', (error: unknown) => warn(error, 'redis event log watch connection error'));
    watchConnection = connection;
    void connection.connect().then(
      () => watchLoop(connection, start),
      (error: unknown) => warn(error, 'redis event log watch connection failed'),
    );
  }
  function stopWatching(): void {
    const connection = watchConnection;
    watchConnection = undefined;
    // destroy, not close: close would wait for the blocked XREAD to time out.
    if (connection?.isOpen) connection.destroy();
  }

  return {
    kind: 'redis',

    async append(events) {
      if (events.length === 0) return { stored: [], duplicates: 0 };
      return appends.submit(events);
    },

    async claim(processor, max, visibilityMs) {
      // XAUTOCLAIM refuses COUNT 0; nothing asked is nothing handed out, as with SQLite.
      if (max <= 0) return [];
      const claim = () =>
        run(
          scripts.claim,
          [keys.inbox, keys.retries, keys.bodies, keys.entries, keys.attempts, keys.autoclaim],
          [GROUP, processor, String(max), String(visibilityMs)],
        );
      let reply: unknown;
      try {
        reply = await claim();
      } catch (error) {
        // The group is gone (Redis came back empty before the reconnection check ran): put it back.
        if (!errorMessage(error).includes('NOGROUP')) throw error;
        await continuity.recover('NOGROUP');
        reply = await claim();
      }
      return parseReply(claimReply, reply, 'claim').map(([id, attempts, body]): ClaimedEvent => ({
        ...decodeEvent(body),
        id,
        attempts: Number(attempts),
      }));
    },

    async complete(id, outcome) {
      const processedAt = new Date().toISOString();
      const reply = parseReply(
        completeReply,
        await run(
          scripts.complete,
          [
            keys.inbox,
            keys.bodies,
            keys.entries,
            keys.attempts,
            keys.pending,
            keys.retries,
            keys.delivery,
            keys.delivered,
            keys.dead,
          ],
          [GROUP, id, encodeChannels(outcome.channels), processedAt, encodeCustomer(outcome.customer)],
        ),
        'complete',
      );
      switch (reply[0]) {
        case 'ok':
          return deliveredEvent(id, reply[2], {
            cursor: redisCursor(reply[1]),
            channels: [...outcome.channels],
            processedAt,
            customer: encodeCustomer(outcome.customer),
          });
        case 'delivered':
          // A processor whose claim expired finishing after another one did: same answer, one delivery.
          return deliveredEvent(id, reply[2], {
            cursor: redisCursor(reply[1]),
            channels: decodeChannels(reply[3]),
            processedAt: reply[4],
            customer: reply[5],
          });
        case 'dead':
          throw new Error(`Event ${id} is dead-lettered; replay it before completing it.`);
        case 'pruned':
          throw new Error(`Event ${id} was delivered and has since been pruned.`);
        case 'unknown':
          throw new Error(`Event ${id} is not in the event log.`);
      }
    },

    async fail(id, failure) {
      const reply = await run(
        scripts.fail,
        [
          keys.inbox,
          keys.bodies,
          keys.entries,
          keys.attempts,
          keys.pending,
          keys.retries,
          keys.dead,
          keys.deadOrder,
          keys.delivered,
          keys.deadCount,
        ],
        [
          GROUP,
          id,
          failure.reason,
          failure.retryAt === null ? '' : String(failure.retryAt.getTime()),
          new Date().toISOString(),
        ],
      );
      // 'delivered' or 'dead': a processor that reclaimed it already finished; nothing to do.
      if (parseReply(failReply, reply, 'fail') === 'unknown') {
        throw new Error(`Event ${id} is not in the event log.`);
      }
    },

    async deadLetters(limit) {
      if (limit <= 0) return [];
      const reply = await run(scripts.deadLetters, [keys.deadOrder, keys.dead, keys.bodies], [String(limit)]);
      return parseReply(deadLettersReply, reply, 'deadLetters').map(([id, record, body]): DeadLetter => {
        const dead = parseReply(deadRecord, JSON.parse(record), 'deadLetters record');
        return { ...decodeEvent(body), id, ...dead };
      });
    },

    async replay(ids) {
      const replayKeys = [keys.inbox, keys.entries, keys.attempts, keys.pending, keys.dead, keys.deadOrder];
      let total = 0;
      if (ids !== undefined) {
        for (let i = 0; i < ids.length; i += BATCH) {
          const reply = await run(scripts.replay, replayKeys, [String(BATCH), ...ids.slice(i, i + BATCH)]);
          total += parseReply(z.number(), reply, 'replay');
        }
        return total;
      }
      for (;;) {
        const n = parseReply(z.number(), await run(scripts.replay, replayKeys, [String(BATCH)]), 'replay');
        total += n;
        if (n < BATCH) return total;
      }
    },

    async read(after, limit, filter) {
      let position = after === undefined ? '-' : `(${parseRedisCursor(after)}`;
      const types = filter?.types === undefined ? undefined : new Set<string>(filter.types);
      if (limit <= 0 || types?.size === 0) return [];
      const out: DeliveredEvent[] = [];
      // With a type filter, pages are scanned until enough match or the stream ends.
      const page = types === undefined ? limit : Math.max(limit, 200);
      for (;;) {
        const reply = await client.sendCommand([
          'XRANGE',
          keys.delivery,
          position,
          '+',
          'COUNT',
          String(page),
        ]);
        const entries = parseReply(streamEntries, reply, 'XRANGE');
        for (const entry of entries) {
          if (types === undefined || types.has(entry[1][3] ?? '')) out.push(fromDeliveryEntry(entry));
          if (out.length === limit) return out;
        }
        const last = entries.at(-1);
        if (!last || entries.length < page) return out;
        position = `(${last[0]}`;
      }
    },

    async latestCursor() {
      const id = await latestEntryId(client);
      return id === undefined ? undefined : redisCursor(id);
    },

    watch(onDelivered) {
      watchers.add(onDelivered);
      if (!watchConnection) startWatching();
      return () => {
        watchers.delete(onDelivered);
        if (watchers.size === 0) stopWatching();
      };
    },

    async prune(retention) {
      let total = 0;
      for (;;) {
        const reply = await run(
          scripts.prune,
          [keys.delivery, keys.delivered],
          [String(retention.maxAgeMs), String(retention.maxEvents), String(BATCH)],
        );
        const n = parseReply(z.number(), reply, 'prune');
        total += n;
        if (n < BATCH) return total;
      }
    },

    async stats() {
      const reply = await run(scripts.stats, [keys.pending, keys.delivery, keys.dead], []);
      const [pending, oldest, delivered, deadLetters, now] = parseReply(statsReply, reply, 'stats');
      const since = Number(oldest);
      return { pending, oldestPendingMs: since < 0 ? 0 : Math.max(0, now - since), delivered, deadLetters };
    },

    async close() {
      watchers.clear();
      stopWatching();
      if (appendConnection.isOpen) await appendConnection.close();
      if (client.isOpen) await client.close();
    },
  };
}
