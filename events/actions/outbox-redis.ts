import { connectSharedRedis, type RedisClient } from '../../lib/redis/shared-client.js';
import { z } from 'zod';
import { RedisScript, runScript } from '../../lib/redis/scripts.js';
import type { ActionEvent } from '../../platforms/kit/actions.js';
import type { ActionOutbox, ActionRecord, ActionStatus, DueGroup, NewAction, Settlement } from './outbox.js';

/**
 * The distributed action outbox: every worker sharing the Redis event log shares it too. Each state
 * change is one Lua script, so a claim hands an action to one runner only, and a settle, a recovery
 * or an enqueue is never seen half done.
 *
 * A claim is a lease (the visibility timeout): `recover` takes back only claims whose lease ran
 * out, so it is safe while other workers run, and the runner calls it every few seconds
 * (`sharedClaims`). What a SIGKILLed worker held is then due again for another worker (an idempotent
 * kind), or failed `ACTION_OUTCOME_UNKNOWN` (a send that may have left), as after a crash embedded.
 *
 * Keys, all under `{prefix}:` (one hash slot): `seq` counter; `a:<key>` hash of the record (seq,
 * rule, platform, type, params, event, status, attempts, due, code, reason, detail, created,
 * updated; null stored as ''); `all` zset key -> seq (listing, in enqueue order); `kinds` set of
 * `<platform>|<type>`; `due:<platform>|<type>` zset `<seq, 16 digits>|<key>` -> due ms (pending
 * only; equal due times in enqueue order); `claims` zset key -> lease end; `settled` zset key ->
 * updated ms (done and failed, for pruning). The record's hash is its idempotency key: an action
 * enqueued again (its event processed twice) adds nothing while it is kept.
 */

const PRELUDE = `
local P = ARGV[1]
local function dueMember(seq, key) return string.format('%016d', tonumber(seq)) .. '|' .. key end
`;
const script = (body: string) => new RedisScript(PRELUDE + body);

/** ARGV: prefix, now, then per action: key, rule, platform, type, params, event. Returns how many were new. */
const ENQUEUE = script(`
local now = ARGV[2]
local added = 0
for i = 3, #ARGV, 6 do
  local key, rule, platform, type = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local akey = P .. 'a:' .. key
  if redis.call('EXISTS', akey) == 0 then
    local seq = redis.call('INCR', P .. 'seq')
    local kind = platform .. '|' .. type
    redis.call('HSET', akey, 'seq', seq, 'key', key, 'rule', rule, 'platform', platform, 'type', type,
      'params', ARGV[i + 4], 'event', ARGV[i + 5], 'status', 'pending', 'attempts', 0, 'due', now,
      'code', '', 'reason', '', 'detail', '', 'created', now, 'updated', now)
    redis.call('ZADD', P .. 'all', seq, key)
    redis.call('SADD', P .. 'kinds', kind)
    redis.call('ZADD', P .. 'due:' .. kind, now, dueMember(seq, key))
    added = added + 1
  end
end
return added
`);

/** ARGV: prefix, now. Returns {platform, type, count, oldest, newest, ...} for kinds with due actions. */
const DUE = script(`
local now = ARGV[2]
local out = {}
for _, kind in ipairs(redis.call('SMEMBERS', P .. 'kinds')) do
  local zkey = P .. 'due:' .. kind
  local count = redis.call('ZCOUNT', zkey, '-inf', now)
  if count > 0 then
    local oldest = redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    local newest = redis.call('ZREVRANGEBYSCORE', zkey, now, '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local sep = string.find(kind, '|', 1, true)
    out[#out + 1] = {string.sub(kind, 1, sep - 1), string.sub(kind, sep + 1), count, oldest[2], newest[2]}
  end
end
return out
`);

/** ARGV: prefix. The earliest due time of any pending action, or false. */
const NEXT_DUE = script(`
local best = nil
for _, kind in ipairs(redis.call('SMEMBERS', P .. 'kinds')) do
  local first = redis.call('ZRANGE', P .. 'due:' .. kind, 0, 0, 'WITHSCORES')
  if first[2] and (best == nil or tonumber(first[2]) < best) then best = tonumber(first[2]) end
end
if best == nil then return false end
return tostring(best)
`);

/**
 * ARGV: prefix, platform, type, limit, now, lease end. Marks up to 'limit' due actions of the kind
 * 'sending' with their attempt counted and a lease: the durable record that a call is about to be
 * made. Returns each claimed record's fields.
 */
const CLAIM = script(`
local kind = ARGV[2] .. '|' .. ARGV[3]
local zkey = P .. 'due:' .. kind
local now, leaseEnd = ARGV[5], ARGV[6]
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))) do
  local key = string.sub(member, 18)
  local akey = P .. 'a:' .. key
  redis.call('ZREM', zkey, member)
  if redis.call('HGET', akey, 'status') == 'pending' then
    redis.call('HINCRBY', akey, 'attempts', 1)
    redis.call('HSET', akey, 'status', 'sending', 'updated', now)
    redis.call('ZADD', P .. 'claims', leaseEnd, key)
    out[#out + 1] = redis.call('HGETALL', akey)
  end
end
return out
`);

/**
 * ARGV: prefix, now, then per settlement: key, status, code, reason, detail, due. Applies only to
 * actions still 'sending' (a settle for an action another worker took back is dropped).
 */
const SETTLE = script(`
local now = ARGV[2]
for i = 3, #ARGV, 6 do
  local key, status = ARGV[i], ARGV[i + 1]
  local akey = P .. 'a:' .. key
  local f = redis.call('HMGET', akey, 'status', 'seq', 'platform', 'type')
  if f[1] == 'sending' then
    redis.call('ZREM', P .. 'claims', key)
    redis.call('HSET', akey, 'status', status, 'code', ARGV[i + 2], 'reason', ARGV[i + 3],
      'detail', ARGV[i + 4], 'updated', now)
    if status == 'pending' then
      redis.call('HSET', akey, 'due', ARGV[i + 5])
      redis.call('ZADD', P .. 'due:' .. f[3] .. '|' .. f[4], ARGV[i + 5], dueMember(f[2], key))
    else
      redis.call('ZADD', P .. 'settled', now, key)
    end
  end
end
return 0
`);

/**
 * ARGV: prefix, now, then the idempotent kinds (\`<platform>|<type>\`). Claims whose lease ran out by
 * 'now': an idempotent kind's are due again now; any other's are failed ACTION_OUTCOME_UNKNOWN.
 * Returns {requeued, {fields of each unknown}}.
 */
const RECOVER = script(`
local now = ARGV[2]
local idempotent = {}
for i = 3, #ARGV do idempotent[ARGV[i]] = true end
local requeued = 0
local unknown = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'claims', '-inf', now)) do
  local akey = P .. 'a:' .. key
  redis.call('ZREM', P .. 'claims', key)
  local f = redis.call('HMGET', akey, 'status', 'seq', 'platform', 'type')
  if f[1] == 'sending' then
    local kind = f[3] .. '|' .. f[4]
    if idempotent[kind] then
      redis.call('HSET', akey, 'status', 'pending', 'due', now, 'updated', now)
      redis.call('ZADD', P .. 'due:' .. kind, now, dueMember(f[2], key))
      requeued = requeued + 1
    else
      redis.call('HSET', akey, 'status', 'failed', 'code', 'ACTION_OUTCOME_UNKNOWN',
        'reason', 'the worker stopped while the call was under way; it may have been applied and is not sent again',
        'updated', now)
      redis.call('ZADD', P .. 'settled', now, key)
      unknown[#unknown + 1] = redis.call('HGETALL', akey)
    end
  end
end
return {requeued, unknown}
`);

/**
 * ARGV: prefix, lease end, then keys. Moves the lease of each key still claimed ('sending', in
 * 'claims') to 'lease end'; a key taken back meanwhile (its lease ran out and a worker recovered
 * it) is left alone. Returns how many were renewed.
 */
const RENEW = script(`
local renewed = 0
for i = 3, #ARGV do
  local key = ARGV[i]
  if redis.call('ZSCORE', P .. 'claims', key) and redis.call('HGET', P .. 'a:' .. key, 'status') == 'sending' then
    redis.call('ZADD', P .. 'claims', 'XX', ARGV[2], key)
    renewed = renewed + 1
  end
end
return renewed
`);

/** ARGV: prefix, before. Forgets done and failed actions settled before 'before'. */
const PRUNE = script(`
local n = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. 'settled', '-inf', '(' .. ARGV[2])) do
  redis.call('DEL', P .. 'a:' .. key)
  redis.call('ZREM', P .. 'all', key)
  redis.call('ZREM', P .. 'settled', key)
  n = n + 1
end
return n
`);

const fieldsReply = z.array(z.string());
const recordFields = z.object({
  key: z.string(),
  rule: z.string(),
  platform: z.string(),
  type: z.string(),
  params: z.string(),
  event: z.string(),
  status: z.enum(['pending', 'sending', 'done', 'failed']),
  attempts: z.coerce.number().int(),
  due: z.coerce.number(),
  code: z.string(),
  reason: z.string(),
  detail: z.string(),
  created: z.coerce.number(),
  updated: z.coerce.number(),
});

/** A record from HGETALL's flat reply; anything else in the outbox's keys is a corrupt store. */
function recordOf(reply: unknown): ActionRecord {
  const flat = fieldsReply.parse(reply);
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  const f = recordFields.parse(fields);
  const orNull = (text: string) => (text === '' ? null : text);
  return {
    key: f.key,
    rule: f.rule,
    platform: f.platform,
    type: f.type,
    params: JSON.parse(f.params) as Record<string, unknown>,
    event: JSON.parse(f.event) as ActionEvent,
    status: f.status,
    attempts: f.attempts,
    dueAt: f.due,
    code: orNull(f.code),
    reason: orNull(f.reason),
    detail: orNull(f.detail),
    createdAt: f.created,
    updatedAt: f.updated,
  };
}

const dueReply = z.array(
  z.tuple([z.string(), z.string(), z.coerce.number(), z.coerce.number(), z.coerce.number()]),
);
const recoverReply = z.tuple([z.coerce.number(), z.array(z.unknown())]);

export interface RedisActionOutboxOptions {
  url: string;
  /** Keys go under `{prefix}:`. @default 'mg:actions' */
  prefix?: string;
  /**
   * How long a claim holds before another worker may take it back: longer than a call may take
   * (the runner's `callBudgetMs`), or a slow call is made twice. @default 120000
   */
  visibilityMs?: number;
  /** The clock `enqueue` and `settle` date records with. @default Date.now */
  now?: () => number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function openRedisActionOutbox(
  options: RedisActionOutboxOptions,
): Promise<ActionOutbox & { readonly visibilityMs: number }> {
  const P = `{${options.prefix ?? 'mg:actions'}}:`;
  const visibilityMs = options.visibilityMs ?? 120_000;
  if (!(Number.isInteger(visibilityMs) && visibilityMs > 0))
    throw new Error(`Redis action outbox: visibilityMs must be a positive integer, not ${visibilityMs}`);
  const now = options.now ?? Date.now;
  let client: RedisClient;
  try {
    client = await connectSharedRedis({ url: options.url });
  } catch (error) {
    throw new Error(`Redis action outbox: cannot connect to Redis: ${errorMessage(error)}`, { cause: error });
  }

  const send = (args: string[]) => client.sendCommand(args);
  // Every script finds its keys from the prefix (ARGV[1]): they are not declared.
  const run = (s: RedisScript, args: (string | number)[]) =>
    runScript(client, s, [], [P, ...args.map(String)]);
  async function byKeys(keys: readonly string[]): Promise<ActionRecord[]> {
    const replies = await Promise.all(keys.map((key) => send(['HGETALL', `${P}a:${key}`])));
    return replies.filter((reply) => Array.isArray(reply) && reply.length > 0).map(recordOf);
  }

  return {
    visibilityMs,
    claimLeaseMs: visibilityMs,
    sharedClaims: true,
    async enqueue(actions: readonly NewAction[]) {
      if (actions.length === 0) return 0;
      const args: (string | number)[] = [now()];
      for (const a of actions)
        args.push(a.key, a.rule, a.platform, a.type, JSON.stringify(a.params), JSON.stringify(a.event));
      return Number(await run(ENQUEUE, args));
    },
    async due(at): Promise<DueGroup[]> {
      return dueReply.parse(await run(DUE, [at])).map(([platform, type, count, oldest, newest]) => ({
        platform,
        type,
        count,
        oldestDueAt: oldest,
        newestDueAt: newest,
      }));
    },
    async nextDueAt() {
      const reply = await run(NEXT_DUE, []);
      return reply === null || reply === undefined ? null : Number(reply);
    },
    async claim(platform, type, limit, at) {
      const reply = z
        .array(z.unknown())
        .parse(await run(CLAIM, [platform, type, limit, at, at + visibilityMs]));
      return reply.map(recordOf);
    },
    async settle(settlements: readonly Settlement[]) {
      if (settlements.length === 0) return;
      const args: (string | number)[] = [now()];
      for (const s of settlements)
        args.push(
          s.key,
          s.status,
          s.status === 'done' ? '' : s.code,
          s.status === 'done' ? '' : s.reason,
          s.status === 'done' ? (s.detail ?? '') : '',
          s.status === 'pending' ? s.dueAt : '',
        );
      await run(SETTLE, args);
    },
    async renew(keys, at) {
      if (keys.length === 0) return 0;
      return Number(await run(RENEW, [at + visibilityMs, ...keys]));
    },
    async recover(idempotent, at) {
      // The kinds seen in the outbox, told apart by the caller's predicate, so the script decides atomically.
      const kinds = parseKinds(await send(['SMEMBERS', `${P}kinds`]));
      const idempotentKinds = kinds.filter(([platform, type]) => idempotent(platform, type));
      const [requeued, unknown] = recoverReply.parse(
        await run(RECOVER, [at, ...idempotentKinds.map(([platform, type]) => `${platform}|${type}`)]),
      );
      return { requeued, unknown: unknown.map(recordOf) };
    },
    async get(key) {
      return (await byKeys([key]))[0];
    },
    async list(filter: { status?: ActionStatus; limit?: number } = {}) {
      const limit = filter.limit ?? 1_000;
      const out: ActionRecord[] = [];
      // In enqueue order, a page at a time, until `limit` records of the status are found.
      for (let start = 0; out.length < limit; start += 500) {
        const keys = fieldsReply.parse(await send(['ZRANGE', `${P}all`, String(start), String(start + 499)]));
        if (keys.length === 0) break;
        for (const record of await byKeys(keys))
          if (!filter.status || record.status === filter.status) out.push(record);
      }
      return out.slice(0, limit);
    },
    async prune(before) {
      return Number(await run(PRUNE, [before]));
    },
    async close() {
      if (client.isOpen) await client.close();
    },
  };
}

function parseKinds(reply: unknown): [string, string][] {
  return fieldsReply.parse(reply).flatMap((kind) => {
    const sep = kind.indexOf('|');
    return sep < 0 ? [] : [[kind.slice(0, sep), kind.slice(sep + 1)] as [string, string]];
  });
}
