/**
 * The Redis delivery store's state changes, as Lua scripts: Redis runs each as one atomic step, so
 * a claim cannot hand a message to two dispatchers, a settle writes the attempt, the message, the
 * streak and the notice together, and an enqueue stores the follower's cursor with its messages.
 * Times are passed in (the deliveries' clock), as the contract asks.
 *
 * Every script takes the key prefix (`{prefix}:`, one hash slot) as ARGV[1] and builds key names
 * from it. Keys:
 * - `endpoints` zset id -> createdMs (the list, in creation order); `ep:<id>` hash of its fields
 *   (null stored as '');
 * - `secrets:<endpointId>` list of `id|createdMs|expiresMs|sealed`, oldest first;
 * - `seq` counter; `m:<id>` hash: seq, id, ep, ev, type, body, trace, status, att, next, owner, created,
 *   updated, code, eclass, err;
 * - per endpoint: `msgs:<ep>` zset id -> seq (listing, paging, deleting), `due:<ep>` zset
 *   `<seq, 16 digits>|<id>` -> due ms (pending and unclaimed; equal due times go in seq order),
 *   `claims:<ep>` zset id -> lease end, `settled:<ep>` zset id -> updatedMs (non-pending, for
 *   pruning), `stopped:<ep>` zset id -> createdMs (failed or exhausted, for recovery),
 *   `ep-att:<ep>` zset of attempt ids;
 * - `attempt-seq` counter, `attempts` hash id -> attempt JSON, `m-att:<messageId>` zset of ids;
 * - `notice-seq` counter, `notices` zset `<id>|<event JSON>` -> id;
 * - `cursor` string: the follower's place in the event log.
 */

const PRELUDE = `
local P = ARGV[1]
local function dueMember(seq, id) return string.format('%016d', tonumber(seq)) .. '|' .. id end
local function idOfDue(member) return string.sub(member, 18) end
local function addNotice(event)
  if event == '' then return end
  local nid = redis.call('INCR', P .. 'notice-seq')
  redis.call('ZADD', P .. 'notices', nid, nid .. '|' .. event)
end
-- Puts a claimed message back, due at 'at'. Returns 1 when it was claimed.
local function releaseOne(id, at)
  local mkey = P .. 'm:' .. id
  local f = redis.call('HMGET', mkey, 'seq', 'status', 'owner', 'ep')
  if f[2] ~= 'pending' or not f[3] or f[3] == '' then return 0 end
  redis.call('ZREM', P .. 'claims:' .. f[4], id)
  redis.call('HSET', mkey, 'owner', '', 'next', at)
  redis.call('ZADD', P .. 'due:' .. f[4], at, dueMember(f[1], id))
  return 1
end
-- Moves a failed or exhausted (or any settled) message back to pending, due at 'at'.
local function resend(id, ep, seq, at)
  local mkey = P .. 'm:' .. id
  redis.call('HSET', mkey, 'status', 'pending', 'att', 0, 'next', at, 'updated', at, 'err', '', 'owner', '')
  redis.call('ZREM', P .. 'settled:' .. ep, id)
  redis.call('ZREM', P .. 'stopped:' .. ep, id)
  redis.call('ZADD', P .. 'due:' .. ep, at, dueMember(seq, id))
end
-- The endpoint's next due time: its first unclaimed message, or the first lease to run out.
local function nextDue(ep)
  local first = redis.call('ZRANGE', P .. 'due:' .. ep, 0, 0, 'WITHSCORES')
  local lease = redis.call('ZRANGE', P .. 'claims:' .. ep, 0, 0, 'WITHSCORES')
  local best = nil
  if first[2] then best = tonumber(first[2]) end
  if lease[2] and (best == nil or tonumber(lease[2]) < best) then best = tonumber(lease[2]) end
  return best
end
`;

const script = (body: string): string => `${PRELUDE}\n${body}`;

/** ARGV: prefix, endpoint id, createdMs, secret entry, then field/value pairs. */
export const CREATE_ENDPOINT = script(`
local ep = ARGV[2]
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', P .. 'ep:' .. ep, unpack(fields))
redis.call('ZADD', P .. 'endpoints', ARGV[3], ep)
redis.call('RPUSH', P .. 'secrets:' .. ep, ARGV[4])
return 1
`);

/** ARGV: prefix, endpoint id, then field/value pairs. Returns the endpoint's fields, or nil. */
export const UPDATE_ENDPOINT = script(`
local key = P .. 'ep:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return false end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
return redis.call('HGETALL', key)
`);

/** ARGV: prefix, endpoint id, now. Returns the endpoint's fields, or nil. */
export const ENABLE_ENDPOINT = script(`
local key = P .. 'ep:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return false end
redis.call('HSET', key, 'enabled', '1', 'disabledReason', '', 'disabledAtMs', '', 'failingSinceMs', '', 'updatedAtMs', ARGV[3])
return redis.call('HGETALL', key)
`);

/**
 * ARGV: prefix, endpoint id, reason, now, notice JSON or ''. Returns {changed, fields}; fields
 * empty when there is no such endpoint.
 */
export const DISABLE_ENDPOINT = script(`
local ep, reason, now = ARGV[2], ARGV[3], ARGV[4]
local key = P .. 'ep:' .. ep
if redis.call('EXISTS', key) == 0 then return {0, {}} end
if redis.call('HGET', key, 'enabled') ~= '1' then return {0, redis.call('HGETALL', key)} end
redis.call('HSET', key, 'enabled', '0', 'disabledReason', reason, 'disabledAtMs', now, 'updatedAtMs', now)
local function fail(id)
  local mkey = P .. 'm:' .. id
  local f = redis.call('HMGET', mkey, 'status', 'created')
  if f[1] ~= 'pending' then return end
  redis.call('HSET', mkey, 'status', 'failed', 'err', 'endpoint-disabled', 'updated', now, 'next', '', 'owner', '')
  redis.call('ZADD', P .. 'settled:' .. ep, now, id)
  redis.call('ZADD', P .. 'stopped:' .. ep, f[2], id)
end
for _, member in ipairs(redis.call('ZRANGE', P .. 'due:' .. ep, 0, -1)) do fail(idOfDue(member)) end
for _, id in ipairs(redis.call('ZRANGE', P .. 'claims:' .. ep, 0, -1)) do fail(id) end
redis.call('DEL', P .. 'due:' .. ep, P .. 'claims:' .. ep)
addNotice(ARGV[5])
return {1, redis.call('HGETALL', key)}
`);

/** ARGV: prefix, endpoint id. Returns 1 when it was there. */
export const DELETE_ENDPOINT = script(`
local ep = ARGV[2]
local key = P .. 'ep:' .. ep
if redis.call('EXISTS', key) == 0 then return 0 end
for _, id in ipairs(redis.call('ZRANGE', P .. 'msgs:' .. ep, 0, -1)) do
  redis.call('DEL', P .. 'm:' .. id, P .. 'm-att:' .. id)
end
for _, aid in ipairs(redis.call('ZRANGE', P .. 'ep-att:' .. ep, 0, -1)) do
  redis.call('HDEL', P .. 'attempts', aid)
end
redis.call('DEL', key, P .. 'secrets:' .. ep, P .. 'msgs:' .. ep, P .. 'due:' .. ep, P .. 'claims:' .. ep,
  P .. 'settled:' .. ep, P .. 'stopped:' .. ep, P .. 'ep-att:' .. ep)
redis.call('ZREM', P .. 'endpoints', ep)
return 1
`);

/**
 * ARGV: prefix, endpoint id, retireAtMs, now, new secret entry. Returns 1, or 0 when there is no
 * such endpoint.
 */
export const ROTATE_SECRET = script(`
local ep, retireAt, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', P .. 'ep:' .. ep) == 0 then return 0 end
local key = P .. 'secrets:' .. ep
local entries = redis.call('LRANGE', key, 0, -1)
redis.call('DEL', key)
for _, entry in ipairs(entries) do
  local id, created, expires, sealed = string.match(entry, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if expires == '' then
    redis.call('RPUSH', key, id .. '|' .. created .. '|' .. retireAt .. '|' .. sealed)
  elseif tonumber(expires) > now then
    redis.call('RPUSH', key, entry)
  end
end
redis.call('RPUSH', key, ARGV[5])
return 1
`);

/**
 * ARGV: prefix, '1' to store the cursor or '0', cursor, then per message: id, endpoint id, event
 * id, event type, body, createdMs, trace context (JSON, or ''). Returns how many were added.
 */
export const ENQUEUE = script(`
local enabled = {}
local added = 0
for i = 4, #ARGV, 7 do
  local id, ep, created = ARGV[i], ARGV[i + 1], ARGV[i + 5]
  local mkey = P .. 'm:' .. id
  if redis.call('EXISTS', mkey) == 0 then
    local on = enabled[ep]
    if on == nil then
      on = redis.call('HGET', P .. 'ep:' .. ep, 'enabled') == '1'
      enabled[ep] = on
    end
    local seq = redis.call('INCR', P .. 'seq')
    redis.call('HSET', mkey, 'seq', seq, 'id', id, 'ep', ep, 'ev', ARGV[i + 2], 'type', ARGV[i + 3],
      'body', ARGV[i + 4], 'att', 0, 'created', created, 'updated', created, 'owner', '', 'code', '',
      'eclass', '', 'trace', ARGV[i + 6])
    redis.call('ZADD', P .. 'msgs:' .. ep, seq, id)
    if on then
      redis.call('HSET', mkey, 'status', 'pending', 'next', created, 'err', '')
      redis.call('ZADD', P .. 'due:' .. ep, created, dueMember(seq, id))
    else
      redis.call('HSET', mkey, 'status', 'failed', 'next', '', 'err', 'endpoint-disabled')
      redis.call('ZADD', P .. 'settled:' .. ep, created, id)
      redis.call('ZADD', P .. 'stopped:' .. ep, created, id)
    end
    added = added + 1
  end
end
if ARGV[2] == '1' then redis.call('SET', P .. 'cursor', ARGV[3]) end
return added
`);

/**
 * ARGV: prefix, endpoint id, owner, now, max, lease end. First puts back the messages whose lease
 * ran out (their dispatcher died or stalled), then claims. Returns {next due or '', {fields...}}.
 */
export const CLAIM = script(`
local ep, owner, now, max, lease = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local dueKey, claimsKey = P .. 'due:' .. ep, P .. 'claims:' .. ep
local expired = redis.call('ZRANGEBYSCORE', claimsKey, '-inf', now, 'WITHSCORES')
for j = 1, #expired, 2 do
  local id, endedAt = expired[j], expired[j + 1]
  redis.call('ZREM', claimsKey, id)
  local mkey = P .. 'm:' .. id
  local f = redis.call('HMGET', mkey, 'seq', 'status')
  if f[2] == 'pending' then
    redis.call('HSET', mkey, 'owner', '', 'next', endedAt)
    redis.call('ZADD', dueKey, endedAt, dueMember(f[1], id))
  end
end
local out = {}
if max > 0 then
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', dueKey, '-inf', now, 'LIMIT', 0, max)) do
    local id = idOfDue(member)
    local mkey = P .. 'm:' .. id
    redis.call('ZREM', dueKey, member)
    redis.call('ZADD', claimsKey, lease, id)
    redis.call('HSET', mkey, 'owner', owner, 'next', lease)
    out[#out + 1] = redis.call('HGETALL', mkey)
  end
end
local nd = nextDue(ep)
return {nd and tostring(nd) or '', out}
`);

/** ARGV: prefix. Returns {endpoint id, due ms, ...} for endpoints with something pending. */
export const DUE_TIMES = script(`
local out = {}
for _, ep in ipairs(redis.call('ZRANGE', P .. 'endpoints', 0, -1)) do
  local nd = nextDue(ep)
  if nd then
    out[#out + 1] = ep
    out[#out + 1] = tostring(nd)
  end
end
return out
`);

/**
 * ARGV: prefix, message id, endpoint id, attempt JSON, verdict status, next attempt ms or '',
 * failure reason or '', attempted at, status code or '', error class or '', notice JSON or ''.
 * Returns the endpoint's failing-since ms, or ''.
 */
export const SETTLE = script(`
local id, ep, attempt, verdict, nextMs, reason, at, code, eclass, notice =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local mkey = P .. 'm:' .. id
local epKey = P .. 'ep:' .. ep
if redis.call('EXISTS', mkey) == 0 then return '' end
local aid = redis.call('INCR', P .. 'attempt-seq')
redis.call('HSET', P .. 'attempts', aid, attempt)
redis.call('ZADD', P .. 'm-att:' .. id, aid, aid)
redis.call('ZADD', P .. 'ep-att:' .. ep, aid, aid)
local f = redis.call('HMGET', mkey, 'seq', 'status', 'created')
local member = dueMember(f[1], id)
local endpointThere = redis.call('EXISTS', epKey) == 1
if verdict == 'succeeded' then
  -- A 2xx is the truth whatever happened meanwhile (a disable marked it failed): it arrived.
  redis.call('ZREM', P .. 'claims:' .. ep, id)
  redis.call('ZREM', P .. 'due:' .. ep, member)
  redis.call('HINCRBY', mkey, 'att', 1)
  redis.call('HSET', mkey, 'status', 'succeeded', 'next', '', 'owner', '', 'updated', at, 'code', code,
    'eclass', '', 'err', '')
  redis.call('ZADD', P .. 'settled:' .. ep, at, id)
  redis.call('ZREM', P .. 'stopped:' .. ep, id)
  if endpointThere then redis.call('HSET', epKey, 'failingSinceMs', '') end
else
  if f[2] == 'pending' then
    redis.call('HINCRBY', mkey, 'att', 1)
    redis.call('ZREM', P .. 'claims:' .. ep, id)
    if verdict == 'pending' then
      redis.call('HSET', mkey, 'next', nextMs, 'owner', '', 'updated', at, 'code', code, 'eclass', eclass)
      redis.call('ZADD', P .. 'due:' .. ep, nextMs, member)
    else
      redis.call('ZREM', P .. 'due:' .. ep, member)
      redis.call('HSET', mkey, 'status', verdict, 'next', '', 'owner', '', 'updated', at, 'code', code,
        'eclass', eclass, 'err', reason)
      redis.call('ZADD', P .. 'settled:' .. ep, at, id)
      redis.call('ZADD', P .. 'stopped:' .. ep, f[3], id)
      addNotice(notice)
    end
  end
  if endpointThere then
    local since = redis.call('HGET', epKey, 'failingSinceMs')
    if not since or since == '' then redis.call('HSET', epKey, 'failingSinceMs', at) end
  end
end
if not endpointThere then return '' end
return redis.call('HGET', epKey, 'failingSinceMs') or ''
`);

/** ARGV: prefix, now, message ids... Returns how many were claimed. */
export const RELEASE = script(`
local n = 0
for i = 3, #ARGV do n = n + releaseOne(ARGV[i], ARGV[2]) end
return n
`);

/** ARGV: prefix, now. Releases every claim of every endpoint; returns how many. */
export const RELEASE_ALL = script(`
local n = 0
for _, ep in ipairs(redis.call('ZRANGE', P .. 'endpoints', 0, -1)) do
  for _, id in ipairs(redis.call('ZRANGE', P .. 'claims:' .. ep, 0, -1)) do n = n + releaseOne(id, ARGV[2]) end
end
return n
`);

/** ARGV: prefix, message id, now. Returns the message's fields (nil when there is none). */
export const REPLAY = script(`
local id = ARGV[2]
local mkey = P .. 'm:' .. id
if redis.call('EXISTS', mkey) == 0 then return false end
local f = redis.call('HMGET', mkey, 'seq', 'status', 'owner', 'ep')
-- One being attempted now is left to that attempt.
if not (f[2] == 'pending' and f[3] ~= '') then resend(id, f[4], f[1], ARGV[3]) end
return redis.call('HGETALL', mkey)
`);

/** ARGV: prefix, endpoint id, since ms, now. Returns how many were put back. */
export const RECOVER = script(`
local ep = ARGV[2]
local n = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'stopped:' .. ep, ARGV[3], '+inf')) do
  local seq = redis.call('HGET', P .. 'm:' .. id, 'seq')
  if seq then
    resend(id, ep, seq, ARGV[4])
    n = n + 1
  end
end
return n
`);

/**
 * ARGV: prefix, endpoint id, status or '', before seq, limit. Newest first. Returns {fields...}.
 */
export const MESSAGES = script(`
local ep, status, before, limit = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local out = {}
local key = P .. 'msgs:' .. ep
while #out < limit do
  local page = redis.call('ZREVRANGEBYSCORE', key, '(' .. before, '-inf', 'WITHSCORES', 'LIMIT', 0, 200)
  if #page == 0 then break end
  for j = 1, #page, 2 do
    local mkey = P .. 'm:' .. page[j]
    if status == '' or redis.call('HGET', mkey, 'status') == status then
      out[#out + 1] = redis.call('HGETALL', mkey)
      if #out >= limit then break end
    end
    before = page[j + 1]
  end
  if #page < 400 then break end
end
return out
`);

/** ARGV: prefix. Returns {pending (claimed included), claimed}. */
export const STATS = script(`
local pending, claimed = 0, 0
for _, ep in ipairs(redis.call('ZRANGE', P .. 'endpoints', 0, -1)) do
  local c = redis.call('ZCARD', P .. 'claims:' .. ep)
  pending = pending + c + redis.call('ZCARD', P .. 'due:' .. ep)
  claimed = claimed + c
end
return {pending, claimed}
`);

/**
 * ARGV: prefix, endpoint id, before ms, batch. Deletes up to `batch` settled messages last changed
 * before then, with their attempts. Returns {deleted, looked at}.
 */
export const PRUNE = script(`
local ep, before, batch = ARGV[2], ARGV[3], tonumber(ARGV[4])
local n = 0
local ids = redis.call('ZRANGEBYSCORE', P .. 'settled:' .. ep, '-inf', '(' .. before, 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  local mkey = P .. 'm:' .. id
  local status = redis.call('HGET', mkey, 'status')
  if status and status ~= 'pending' then
    for _, aid in ipairs(redis.call('ZRANGE', P .. 'm-att:' .. id, 0, -1)) do
      redis.call('HDEL', P .. 'attempts', aid)
      redis.call('ZREM', P .. 'ep-att:' .. ep, aid)
    end
    redis.call('DEL', mkey, P .. 'm-att:' .. id)
    redis.call('ZREM', P .. 'msgs:' .. ep, id)
    redis.call('ZREM', P .. 'stopped:' .. ep, id)
    n = n + 1
  end
  redis.call('ZREM', P .. 'settled:' .. ep, id)
end
return {n, #ids}
`);
