import type { StoredTraceContext } from '../../lib/telemetry/tracing.js';
import { randomUUID } from 'node:crypto';
import { RedisScript, runScript } from '../../lib/redis/scripts.js';
import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';
import { z } from 'zod';
import type { EventType, IncomingEvent } from '../../lib/events/event.js';
import type { AttemptErrorClass } from '../attempt.js';
import type { DisabledReason, Endpoint, EndpointChanges } from '../endpoint.js';
import {
  CLAIM,
  CREATE_ENDPOINT,
  DELETE_ENDPOINT,
  DISABLE_ENDPOINT,
  DUE_TIMES,
  ENABLE_ENDPOINT,
  ENQUEUE,
  MESSAGES,
  PRUNE,
  RECOVER,
  RELEASE,
  RELEASE_ALL,
  REPLAY,
  ROTATE_SECRET,
  SETTLE,
  STATS,
  UPDATE_ENDPOINT,
} from './redis-scripts.js';
import type {
  AttemptRecord,
  ClaimResult,
  DeliveryStore,
  MessageStatus,
  OutboxMessage,
  StoreChange,
  StoredSecret,
} from './types.js';

export interface RedisDeliveryStoreOptions {
  /** `redis://...` of the Redis every worker sharing the deliveries uses. */
  url: string;
  /**
   * Prefix of every key (`{prefix}:...`, one hash slot): one delivery store per prefix.
   * @default 'mg:deliveries'
   */
  prefix?: string;
}

/** Messages enqueued in one script: big pages are split so one call never blocks Redis for long. */
const ENQUEUE_BATCH = 2_000;
const PRUNE_BATCH = 1_000;

const flat = z.array(z.string());
const changeSchema = z.object({
  origin: z.string(),
  change: z.union([
    z.object({ kind: z.literal('endpoint'), endpointId: z.string() }),
    z.object({ kind: z.literal('due'), endpointIds: z.array(z.string()) }),
  ]),
});

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A Redis reply we asked for; anything else means a Redis we do not understand, so it throws. */
function parse<T>(schema: z.ZodType<T>, reply: unknown, what: string): T {
  const parsed = schema.safeParse(reply);
  if (!parsed.success)
    throw new Error(`Redis delivery store: unexpected reply to ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** HGETALL's flat [field, value, ...] as a record. */
function record(reply: unknown, what: string): Record<string, string> {
  const list = parse(flat, reply, what);
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

const nullable = (value: string | undefined): string | null =>
  value === undefined || value === '' ? null : value;
const numberOrNull = (value: string | undefined): number | null => {
  const text = nullable(value);
  return text === null ? null : Number(text);
};

function endpointFields(endpoint: { [K in keyof Endpoint]?: Endpoint[K] | undefined }): string[] {
  const out: string[] = [];
  const put = (field: string, value: string | number | boolean | null | undefined) => {
    if (value === undefined) return;
    out.push(field, value === null ? '' : typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  };
  put('id', endpoint.id);
  put('url', endpoint.url);
  put('description', endpoint.description);
  put('eventTypes', endpoint.eventTypes === undefined ? undefined : JSON.stringify(endpoint.eventTypes));
  put('channels', endpoint.channels === undefined ? undefined : JSON.stringify(endpoint.channels));
  put('rateLimitPerSecond', endpoint.rateLimitPerSecond);
  put('ownerClientId', endpoint.ownerClientId);
  put('enabled', endpoint.enabled);
  put('disabledReason', endpoint.disabledReason);
  put('disabledAtMs', endpoint.disabledAtMs);
  put('failingSinceMs', endpoint.failingSinceMs);
  put('createdAtMs', endpoint.createdAtMs);
  put('updatedAtMs', endpoint.updatedAtMs);
  put('selection', endpoint.selection);
  return out;
}

function toEndpoint(f: Record<string, string>): Endpoint {
  return {
    id: f['id'] ?? '',
    url: f['url'] ?? '',
    description: f['description'] ?? '',
    eventTypes: JSON.parse(f['eventTypes'] ?? 'null') as EventType[] | null,
    channels: JSON.parse(f['channels'] ?? 'null') as string[] | null,
    rateLimitPerSecond: numberOrNull(f['rateLimitPerSecond']),
    ownerClientId: f['ownerClientId'] ?? '',
    enabled: f['enabled'] === '1',
    disabledReason: nullable(f['disabledReason']) as DisabledReason | null,
    disabledAtMs: numberOrNull(f['disabledAtMs']),
    failingSinceMs: numberOrNull(f['failingSinceMs']),
    createdAtMs: Number(f['createdAtMs']),
    updatedAtMs: Number(f['updatedAtMs']),
    // Absent in endpoints written before selections existed.
    selection: nullable(f['selection']),
  };
}

function toMessage(f: Record<string, string>): OutboxMessage {
  const status = f['status'] as MessageStatus;
  return {
    // Absent in messages written before traces were kept, and when tracing was off.
    ...(f['trace'] ? { trace: JSON.parse(f['trace']) as StoredTraceContext } : {}),
    seq: Number(f['seq']),
    id: f['id'] ?? '',
    endpointId: f['ep'] ?? '',
    eventId: f['ev'] ?? '',
    eventType: f['type'] ?? '',
    body: f['body'] ?? '',
    status,
    attempts: Number(f['att']),
    nextAttemptMs: status === 'pending' ? numberOrNull(f['next']) : null,
    createdAtMs: Number(f['created']),
    updatedAtMs: Number(f['updated']),
    lastStatusCode: numberOrNull(f['code']),
    lastErrorClass: nullable(f['eclass']) as AttemptErrorClass | null,
    lastError: nullable(f['err']),
  };
}

/** `id|createdMs|expiresMs|sealed`: sealed text (`sealed:v1:...`, `plain:whsec_...`) has no `|`. */
const secretEntry = (secret: StoredSecret): string =>
  `${secret.id}|${secret.createdAtMs}|${secret.expiresAtMs ?? ''}|${secret.sealed}`;
function toSecret(endpointId: string, entry: string): StoredSecret {
  const [id = '', created = '', expires = '', ...sealed] = entry.split('|');
  return {
    id,
    endpointId,
    sealed: sealed.join('|'),
    createdAtMs: Number(created),
    expiresAtMs: expires === '' ? null : Number(expires),
  };
}

type StoredAttempt = Omit<AttemptRecord, 'id'>;

/**
 * The distributed delivery store: sorted sets in Redis, shared by every worker on the same prefix.
 * Each endpoint has its own due queue (`due:<endpoint>`, by due time) and its own claims
 * (`claims:<endpoint>`, by lease end), so claiming is per endpoint as the dispatcher's lanes are,
 * and a lease that runs out puts the message back for any worker (at least once, across SIGKILL).
 * Every state change is one Lua script (redis-scripts.ts), so each is atomic as the contract asks.
 * Changes are published on `{prefix}:changes` for the other workers' dispatchers (`watch`).
 *
 * Durability is Redis's (AOF `appendfsync always` loses nothing; `everysec` may lose the last
 * second: a lost cursor is read again, a lost `succeeded` is delivered again — at least once).
 */
export async function openRedisDeliveryStore(options: RedisDeliveryStoreOptions): Promise<DeliveryStore> {
  const P = `{${options.prefix ?? 'mg:deliveries'}}:`;
  const channel = `${P}changes`;
  const origin = randomUUID();
  let client: RedisClient;
  try {
    client = await connectSharedRedis({ url: options.url });
  } catch (error) {
    throw new Error(`Redis delivery store: cannot connect to Redis: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  const send = (args: string[]) => client.sendCommand(args);
  // Every script finds its keys from the prefix (ARGV[1]): they are not declared.
  const run = (script: RedisScript, args: (string | number)[]) =>
    runScript(client, script, [], [P, ...args.map(String)]);
  const scripts = {
    create: new RedisScript(CREATE_ENDPOINT),
    update: new RedisScript(UPDATE_ENDPOINT),
    enable: new RedisScript(ENABLE_ENDPOINT),
    disable: new RedisScript(DISABLE_ENDPOINT),
    delete: new RedisScript(DELETE_ENDPOINT),
    rotate: new RedisScript(ROTATE_SECRET),
    enqueue: new RedisScript(ENQUEUE),
    claim: new RedisScript(CLAIM),
    dueTimes: new RedisScript(DUE_TIMES),
    settle: new RedisScript(SETTLE),
    release: new RedisScript(RELEASE),
    releaseAll: new RedisScript(RELEASE_ALL),
    replay: new RedisScript(REPLAY),
    recover: new RedisScript(RECOVER),
    messages: new RedisScript(MESSAGES),
    stats: new RedisScript(STATS),
    prune: new RedisScript(PRUNE),
  };

  // ── changes for the other workers ──────────────────────────────────────────
  const listeners = new Set<(change: StoreChange) => void>();
  function publish(change: StoreChange): void {
    // Best effort: a lost notice is made up for by the dispatchers' periodic re-read.
    send(['PUBLISH', channel, JSON.stringify({ origin, change })]).catch(() => undefined);
  }
  function heard(text: string): void {
    let parsed: z.infer<typeof changeSchema>;
    try {
      parsed = changeSchema.parse(JSON.parse(text));
    } catch {
      return; // not ours: ignored
    }
    if (parsed.origin === origin) return; // this instance's callers already know
    for (const listener of listeners) listener(parsed.change);
  }
  // Subscribed before the store is handed out, so no change published after `open` is missed by
  // a listener added later (apart from a reconnection's gap, which the periodic re-read covers).
  const subscriber = client.duplicate();
  subscriber.on('error', () => undefined);
  try {
    await subscriber.connect();
    await subscriber.subscribe(channel, heard);
  } catch (error) {
    if (client.isOpen) client.destroy();
    if (subscriber.isOpen) subscriber.destroy();
    throw new Error(`Redis delivery store: cannot subscribe to changes: ${errorMessage(error)}`, {
      cause: error,
    });
  }

  async function endpointById(id: string): Promise<Endpoint | undefined> {
    const fields = record(await send(['HGETALL', `${P}ep:${id}`]), 'endpoint');
    return fields['id'] === undefined ? undefined : toEndpoint(fields);
  }
  const endpointOrUndefined = (reply: unknown, what: string): Endpoint | undefined =>
    reply === null ? undefined : toEndpoint(record(reply, what));

  async function claim(
    endpointId: string,
    owner: string,
    nowMs: number,
    max: number,
    leaseUntilMs: number,
  ): Promise<ClaimResult> {
    const [next, list] = parse(
      z.tuple([z.string(), z.array(flat)]),
      await run(scripts.claim, [endpointId, owner, nowMs, max, leaseUntilMs]),
      'claim',
    );
    return {
      messages: list.map((fields) => toMessage(record(fields, 'claim'))),
      nextDueMs: next === '' ? null : Number(next),
    };
  }

  return {
    kind: 'redis',

    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async createEndpoint(endpoint, secret) {
      await run(scripts.create, [
        endpoint.id,
        endpoint.createdAtMs,
        secretEntry(secret),
        ...endpointFields(endpoint),
      ]);
      publish({ kind: 'endpoint', endpointId: endpoint.id });
    },
    async updateEndpoint(id, changes: EndpointChanges, nowMs) {
      const reply = await run(scripts.update, [id, ...endpointFields({ ...changes, updatedAtMs: nowMs })]);
      const endpoint = endpointOrUndefined(reply, 'updateEndpoint');
      if (endpoint) publish({ kind: 'endpoint', endpointId: id });
      return endpoint;
    },
    async deleteEndpoint(id) {
      const deleted = Number(await run(scripts.delete, [id])) === 1;
      if (deleted) publish({ kind: 'endpoint', endpointId: id });
      return deleted;
    },
    endpoint: endpointById,
    async endpoints(filter) {
      const ids = parse(flat, await send(['ZRANGE', `${P}endpoints`, '0', '-1']), 'endpoints');
      const all = await Promise.all(ids.map(endpointById));
      return all.filter(
        (endpoint): endpoint is Endpoint =>
          endpoint !== undefined &&
          (filter?.ownerClientId === undefined || endpoint.ownerClientId === filter.ownerClientId),
      );
    },
    async enableEndpoint(id, nowMs) {
      const endpoint = endpointOrUndefined(await run(scripts.enable, [id, nowMs]), 'enableEndpoint');
      if (endpoint) publish({ kind: 'endpoint', endpointId: id });
      return endpoint;
    },
    async disableEndpoint(id, reason, nowMs, notice?: IncomingEvent) {
      const reply = parse(
        z.tuple([z.number(), flat]),
        await run(scripts.disable, [id, reason, nowMs, notice ? JSON.stringify(notice) : '']),
        'disableEndpoint',
      );
      const changed = reply[0] === 1;
      if (changed) publish({ kind: 'endpoint', endpointId: id });
      return {
        endpoint: reply[1].length === 0 ? undefined : toEndpoint(record(reply[1], 'disable')),
        changed,
      };
    },

    async activeSecrets(endpointId, nowMs) {
      const entries = parse(flat, await send(['LRANGE', `${P}secrets:${endpointId}`, '0', '-1']), 'secrets');
      // Newest first: by creation time, then the later added first.
      return entries
        .map((entry) => toSecret(endpointId, entry))
        .reverse()
        .filter((secret) => secret.expiresAtMs === null || secret.expiresAtMs > nowMs)
        .sort((a, b) => b.createdAtMs - a.createdAtMs);
    },
    async rotateSecret(endpointId, next, retireAtMs, nowMs) {
      const rotated =
        Number(await run(scripts.rotate, [endpointId, retireAtMs, nowMs, secretEntry(next)])) === 1;
      if (rotated) publish({ kind: 'endpoint', endpointId });
      return rotated;
    },

    async enqueue(messages, cursor) {
      if (messages.length === 0 && cursor === undefined) return 0;
      let added = 0;
      // The cursor goes with the last batch: a crash before it reads the page again (idempotent).
      for (let start = 0; start < messages.length || start === 0; start += ENQUEUE_BATCH) {
        const batch = messages.slice(start, start + ENQUEUE_BATCH);
        const last = start + ENQUEUE_BATCH >= messages.length;
        const args: (string | number)[] = [last && cursor !== undefined ? '1' : '0', cursor ?? ''];
        for (const m of batch)
          args.push(
            m.id,
            m.endpointId,
            m.eventId,
            m.eventType,
            m.body,
            m.createdAtMs,
            m.trace ? JSON.stringify(m.trace) : '',
          );
        added += Number(await run(scripts.enqueue, args));
        if (last) break;
      }
      if (added > 0) publish({ kind: 'due', endpointIds: [...new Set(messages.map((m) => m.endpointId))] });
      return added;
    },
    async changeVersion() {
      const value = await send(['GET', `${P}change_version`]);
      return typeof value === 'string' ? Number(value) : 0;
    },
    async noteChange() {
      await send(['INCR', `${P}change_version`]);
    },
    async followerCursor() {
      const value = await send(['GET', `${P}cursor`]);
      return typeof value === 'string' ? value : undefined;
    },
    claim,
    async claimMany(requests, owner, nowMs, leaseUntilMs) {
      // Sent together, so the client writes them in one batch: one round trip for the pass. Each
      // stays its own script (one endpoint's keys), as a cluster would need.
      return Promise.all(
        requests.map((request) => claim(request.endpointId, owner, nowMs, request.max, leaseUntilMs)),
      );
    },
    async dueTimes() {
      const list = parse(flat, await run(scripts.dueTimes, []), 'dueTimes');
      const out = new Map<string, number>();
      for (let i = 0; i + 1 < list.length; i += 2) out.set(list[i] as string, Number(list[i + 1]));
      return out;
    },
    async settle(settlement) {
      const { attempt, verdict } = settlement;
      const stored: StoredAttempt = attempt;
      const reply = await run(scripts.settle, [
        settlement.messageId,
        settlement.endpointId,
        JSON.stringify(stored),
        verdict.status,
        verdict.status === 'pending' ? verdict.nextAttemptMs : '',
        verdict.status === 'failed' ? verdict.reason : '',
        attempt.attemptedAtMs,
        attempt.statusCode ?? '',
        attempt.errorClass ?? '',
        settlement.notice ? JSON.stringify(settlement.notice) : '',
      ]);
      return { failingSinceMs: numberOrNull(parse(z.string(), reply, 'settle')) };
    },
    async release(ids, nowMs) {
      if (ids.length === 0) return;
      await run(scripts.release, [nowMs, ...ids]);
      publish({ kind: 'due', endpointIds: [] });
    },
    async releaseAllClaims(nowMs) {
      return Number(await run(scripts.releaseAll, [nowMs]));
    },

    async replayMessage(messageId, nowMs) {
      const reply = await run(scripts.replay, [messageId, nowMs]);
      if (reply === null) return undefined;
      const message = toMessage(record(reply, 'replayMessage'));
      publish({ kind: 'due', endpointIds: [message.endpointId] });
      return message;
    },
    async recoverEndpoint(endpointId, sinceMs, nowMs) {
      const count = Number(await run(scripts.recover, [endpointId, sinceMs, nowMs]));
      if (count > 0) publish({ kind: 'due', endpointIds: [endpointId] });
      return count;
    },

    async message(id) {
      const fields = record(await send(['HGETALL', `${P}m:${id}`]), 'message');
      return fields['id'] === undefined ? undefined : toMessage(fields);
    },
    async messages(query) {
      const reply = await run(scripts.messages, [
        query.endpointId,
        query.status ?? '',
        query.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        query.limit,
      ]);
      return parse(z.array(flat), reply, 'messages').map((fields) => toMessage(record(fields, 'messages')));
    },
    async attempts(query) {
      const key =
        query.messageId !== undefined
          ? `${P}m-att:${query.messageId}`
          : query.endpointId !== undefined
            ? `${P}ep-att:${query.endpointId}`
            : undefined;
      if (key === undefined) throw new TypeError('attempts() needs a messageId or an endpointId');
      const before = query.beforeId === undefined ? '+inf' : `(${query.beforeId}`;
      const ids = parse(
        flat,
        await send(['ZREVRANGEBYSCORE', key, before, '-inf', 'LIMIT', '0', String(query.limit)]),
        'attempts',
      );
      if (ids.length === 0) return [];
      const bodies = parse(
        z.array(z.string().nullable()),
        await send(['HMGET', `${P}attempts`, ...ids]),
        'attempts',
      );
      const out: AttemptRecord[] = [];
      ids.forEach((id, i) => {
        const body = bodies[i];
        if (body) out.push({ id: Number(id), ...(JSON.parse(body) as StoredAttempt) });
      });
      return out;
    },

    async pendingNotices(limit) {
      if (limit <= 0) return [];
      const members = parse(flat, await send(['ZRANGE', `${P}notices`, '0', String(limit - 1)]), 'notices');
      return members.map((member) => {
        const bar = member.indexOf('|');
        return {
          id: Number(member.slice(0, bar)),
          event: JSON.parse(member.slice(bar + 1)) as IncomingEvent,
        };
      });
    },
    async forgetNotices(ids) {
      await Promise.all(ids.map((id) => send(['ZREMRANGEBYSCORE', `${P}notices`, String(id), String(id)])));
    },

    async stats() {
      const [pending, claimed] = parse(
        z.tuple([z.number(), z.number()]),
        await run(scripts.stats, []),
        'stats',
      );
      return { pending, claimed };
    },
    async prune(beforeMs) {
      const ids = parse(flat, await send(['ZRANGE', `${P}endpoints`, '0', '-1']), 'endpoints');
      let pruned = 0;
      for (const endpointId of ids) {
        for (;;) {
          const [deleted, seen] = parse(
            z.tuple([z.number(), z.number()]),
            await run(scripts.prune, [endpointId, beforeMs, PRUNE_BATCH]),
            'prune',
          );
          pruned += deleted;
          if (seen < PRUNE_BATCH) break;
        }
      }
      return pruned;
    },
    async close() {
      listeners.clear();
      if (subscriber.isOpen) subscriber.destroy();
      if (client.isOpen) await client.close();
    },
  };
}
