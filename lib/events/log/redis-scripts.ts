/**
 * The Redis event log's state changes, as Lua scripts. Redis runs a script as one atomic step
 * (replicated and written to the AOF as one MULTI/EXEC of its effects), like MULTI/EXEC, and it
 * can also look at the state first: whether the event is still pending, which stream entry to
 * acknowledge. That check is what keeps a late processor from delivering an event twice, without
 * WATCH round trips. Times come from the server's clock (`TIME`) so that every gateway instance
 * agrees on when a retry is due and how old an entry is.
 *
 * Key names (all `{prefix}:...`, one hash slot):
 * - `inbox` stream, consumer group `processors`; each entry holds only `id`;
 * - `bodies` hash id -> event JSON, while the event is pending or dead;
 * - `entries` hash id -> the event's current inbox entry id (to XACK it);
 * - `attempts` hash id -> processing attempts so far;
 * - `pending` zset id -> ms since which it has been pending (for the lag);
 * - `retries` zset id -> ms at which a failed event is due again (its inbox entry is acknowledged);
 * - `dead` hash id -> `{reason, attempts, failedAt}` JSON, `dead-order` zset id -> failure number
 *   (from the `dead-count` counter: failures within one millisecond keep their order);
 * - `delivery` stream: entries `id, type, event, channels, processedAt`; their ids are the cursors;
 * - `delivered` hash id -> delivery entry id (so a late `complete` answers without delivering again);
 * - `autoclaim` string: where the next XAUTOCLAIM scan of the pending entries continues;
 * - `generation` string: a random id set when the log is first opened; found missing later, it
 *   says Redis lost the log (restarted without persistence);
 * - `dedupe:<dedupeKey>` string with a TTL.
 */

const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/**
 * KEYS: inbox, bodies, entries, pending, then one dedupe key per event.
 * ARGV: dedupe TTL ms, then id and body per event. Returns 1 (stored) or 0 (duplicate) per event.
 */
export const APPEND = `${NOW}
local results = {}
for i = 5, #KEYS do
  local n = i - 4
  local id = ARGV[2 * n]
  if redis.call('SET', KEYS[i], id, 'NX', 'PX', ARGV[1]) then
    redis.call('HSET', KEYS[2], id, ARGV[2 * n + 1])
    redis.call('ZADD', KEYS[4], now, id)
    redis.call('HSET', KEYS[3], id, redis.call('XADD', KEYS[1], '*', 'id', id))
    results[n] = 1
  else
    results[n] = 0
  end
end
return results
`;

/**
 * KEYS: inbox, retries, bodies, entries, attempts, autoclaim.
 * ARGV: group, consumer, max, visibility ms. Returns {id, attempts before, body} per event.
 */
export const CLAIM = `${NOW}
local max = tonumber(ARGV[3])
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, max)) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('HSET', KEYS[4], id, redis.call('XADD', KEYS[1], '*', 'id', id))
end
local out = {}
local function take(entry)
  if not entry then return end
  local id = entry[2][2]
  if redis.call('HGET', KEYS[4], id) ~= entry[1] then
    -- An entry the event has left (it moved on): drop it rather than hand it out.
    redis.call('XACK', KEYS[1], ARGV[1], entry[1])
    redis.call('XDEL', KEYS[1], entry[1])
    return
  end
  local attempts = redis.call('HINCRBY', KEYS[5], id, 1) - 1
  out[#out + 1] = { id, tostring(attempts), redis.call('HGET', KEYS[3], id) }
end
local start = redis.call('GET', KEYS[6]) or '0-0'
local reclaimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], start, 'COUNT', max)
redis.call('SET', KEYS[6], reclaimed[1])
for _, entry in ipairs(reclaimed[2]) do take(entry) end
if #out < max then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', max - #out, 'STREAMS', KEYS[1], '>')
  if fresh then
    for _, entry in ipairs(fresh[1][2]) do take(entry) end
  end
end
return out
`;

/**
 * KEYS: inbox, bodies, entries, attempts, pending, retries, delivery, delivered, dead.
 * ARGV: group, id, channels JSON, processedAt, completed customer JSON ('' = the body's).
 * Returns {'ok', delivery id, body} | {'delivered', delivery id, body, channels, processedAt, customer}
 * | {'dead'} | {'pruned'} | {'unknown'}.
 */
export const COMPLETE = `
local id = ARGV[2]
local body = redis.call('HGET', KEYS[2], id)
if not body then
  local did = redis.call('HGET', KEYS[8], id)
  if not did then return { 'unknown' } end
  local found = redis.call('XRANGE', KEYS[7], did, did)
  if #found == 0 then return { 'pruned' } end
  local f = found[1][2]
  return { 'delivered', did, f[6], f[8], f[10], f[12] or '' }
end
if redis.call('HEXISTS', KEYS[9], id) == 1 then return { 'dead' } end
local entry = redis.call('HGET', KEYS[3], id)
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
end
local did = redis.call('XADD', KEYS[7], '*', 'id', id, 'type', cjson.decode(body)['type'], 'event', body,
  'channels', ARGV[3], 'processedAt', ARGV[4], 'customer', ARGV[5])
redis.call('HSET', KEYS[8], id, did)
redis.call('HDEL', KEYS[2], id)
redis.call('HDEL', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[6], id)
return { 'ok', did, body }
`;

/**
 * KEYS: inbox, bodies, entries, attempts, pending, retries, dead, dead-order, delivered, dead-count.
 * ARGV: group, id, reason, retry-at ms ('' = dead-letter), failedAt.
 * Returns 'ok' | 'delivered' | 'dead' | 'unknown'.
 */
export const FAIL = `
local id = ARGV[2]
if redis.call('HEXISTS', KEYS[2], id) == 0 then
  if redis.call('HEXISTS', KEYS[9], id) == 1 then return 'delivered' end
  return 'unknown'
end
if redis.call('HEXISTS', KEYS[7], id) == 1 then return 'dead' end
local entry = redis.call('HGET', KEYS[3], id)
if entry then
  redis.call('XACK', KEYS[1], ARGV[1], entry)
  redis.call('XDEL', KEYS[1], entry)
  redis.call('HDEL', KEYS[3], id)
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[4], id)
else
  local attempts = tonumber(redis.call('HGET', KEYS[4], id) or '0')
  redis.call('HSET', KEYS[7], id, cjson.encode({ reason = ARGV[3], attempts = attempts, failedAt = ARGV[5] }))
  redis.call('ZADD', KEYS[8], redis.call('INCR', KEYS[10]), id)
  redis.call('ZREM', KEYS[5], id)
  redis.call('ZREM', KEYS[6], id)
end
return 'ok'
`;

/** KEYS: dead-order, dead, bodies. ARGV: limit. Returns {id, dead JSON, body} oldest first. */
export const DEAD_LETTERS = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)) do
  out[#out + 1] = { id, redis.call('HGET', KEYS[2], id), redis.call('HGET', KEYS[3], id) }
end
return out
`;

/**
 * KEYS: inbox, entries, attempts, pending, dead, dead-order.
 * ARGV: batch size, then the ids (none = the oldest dead letters, up to the batch size).
 * Returns how many were put back.
 */
export const REPLAY = `${NOW}
local ids = {}
if #ARGV == 1 then
  ids = redis.call('ZRANGE', KEYS[6], 0, tonumber(ARGV[1]) - 1)
else
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('HDEL', KEYS[5], id) == 1 then
    redis.call('ZREM', KEYS[6], id)
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZADD', KEYS[4], now, id)
    redis.call('HSET', KEYS[2], id, redis.call('XADD', KEYS[1], '*', 'id', id))
    n = n + 1
  end
end
return n
`;

/**
 * KEYS: delivery, delivered. ARGV: max age ms, max events, batch size.
 * Trims up to a batch from the old end (older than the age, or beyond the count) with XTRIM MINID,
 * forgetting their `delivered` records. Returns how many were removed; call again while = batch.
 */
export const PRUNE = `${NOW}
local cutoff = now - tonumber(ARGV[1])
local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[2])
local batch = tonumber(ARGV[3])
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', batch + 1)
local n = 0
local keep = nil
for i, entry in ipairs(entries) do
  local ms = tonumber(string.match(entry[1], '^(%d+)-'))
  if i <= batch and (n < excess or ms < cutoff) then
    n = n + 1
    redis.call('HDEL', KEYS[2], entry[2][2])
  else
    keep = entry[1]
    break
  end
end
if n == 0 then return 0 end
if keep then
  redis.call('XTRIM', KEYS[1], 'MINID', keep)
else
  redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
end
return n
`;

/** KEYS: pending, delivery, dead. Returns {pending, oldest pending since ms or -1, delivered, dead, now}. */
export const STATS = `${NOW}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return { redis.call('ZCARD', KEYS[1]), oldest[2] or '-1', redis.call('XLEN', KEYS[2]), redis.call('HLEN', KEYS[3]), now }
`;

/**
 * KEYS: generation, inbox. ARGV: a new generation id, group.
 * The log's generation (set when missing) and the consumer group (created from the start of the
 * inbox when missing, so entries appended before it existed are handed out too).
 * Returns {generation, 1 when the group was created now else 0}.
 */
export const ENSURE_GROUP = `
local generation = redis.call('GET', KEYS[1])
if not generation then
  generation = ARGV[1]
  redis.call('SET', KEYS[1], generation)
end
local created = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
if type(created) == 'table' and created.err then
  if string.sub(created.err, 1, 9) ~= 'BUSYGROUP' then return redis.error_reply(created.err) end
  return { generation, 0 }
end
return { generation, 1 }
`;
