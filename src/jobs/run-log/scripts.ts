import { LuaScript } from './lua-script.js';

/**
 * Compare-and-append (docs/internals.md#run-log). KEYS: events, active, unjournaled, held. ARGV: expectedSeq, runId,
 * mode ('end' when the batch ends the run), announce channel ('' for none), expected last event JSON ('' for no
 * check), event JSON…. Returns {1, newLastSeq} or {0, currentLastSeq}. Ending a run drops it from the active index
 * and frees every slot it still holds.
 */
export const APPEND = new LuaScript(`
local len = redis.call('LLEN', KEYS[1])
if len ~= tonumber(ARGV[1]) - 1 then return {0, len} end
if ARGV[5] ~= '' and len > 0 and redis.call('LINDEX', KEYS[1], -1) ~= ARGV[5] then return {0, len} end
local events = {}
for i = 6, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
  events[#events + 1] = ARGV[i]
end
redis.call('PERSIST', KEYS[1])
redis.call('SADD', KEYS[3], ARGV[2])
if ARGV[3] == 'end' then
  redis.call('SREM', KEYS[2], ARGV[2])
  for _, slot in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if redis.call('GET', slot) == ARGV[2] then redis.call('DEL', slot) end
  end
  redis.call('DEL', KEYS[4])
elseif len == 0 then
  redis.call('SADD', KEYS[2], ARGV[2])
end
if ARGV[4] ~= '' then redis.call('PUBLISH', ARGV[4], '[' .. table.concat(events, ',') .. ']') end
return {1, len + #events}
`);

/**
 * Records that the journal holds the run up to ARGV[2]. KEYS: events, unjournaled, journaled, active. ARGV: runId,
 * seq, finishedTtlSeconds. Leaves the unjournaled index only when the log has nothing newer (checked atomically
 * against concurrent appends); a finished, fully journaled log then expires. Returns 1 when fully journaled.
 */
export const MARK_JOURNALED = new LuaScript(`
local cur = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
local seq = tonumber(ARGV[2])
if seq > cur then cur = seq end
local len = redis.call('LLEN', KEYS[1])
if len > cur then
  redis.call('HSET', KEYS[3], ARGV[1], cur)
  return 0
end
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 and tonumber(ARGV[3]) > 0 then
  redis.call('HDEL', KEYS[3], ARGV[1])
  if len > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
else
  redis.call('HSET', KEYS[3], ARGV[1], cur)
end
return 1
`);

/**
 * Reloads a run's log from the journal, only into an empty log (a live log is never overwritten). KEYS: events,
 * active, journaled, unjournaled. ARGV: runId, active ('1' or '0'), finishedTtlSeconds, event JSON….
 * Returns {1, lastSeq} or {0, currentLastSeq}.
 */
export const RESTORE = new LuaScript(`
local len = redis.call('LLEN', KEYS[1])
if len > 0 then return {0, len} end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
local n = #ARGV - 3
redis.call('SREM', KEYS[4], ARGV[1])
if ARGV[2] == '1' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], n)
else
  redis.call('SREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[3], ARGV[1])
  if tonumber(ARGV[3]) > 0 and n > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
end
return {1, n}
`);

/**
 * KEYS: slot, held. ARGV: runId. Takes a free slot, or confirms one the run already holds (so a retried start or a
 * restore is idempotent). Returns {1, runId} or {0, holderRunId}.
 */
export const ACQUIRE_SLOT = new LuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('SADD', KEYS[2], KEYS[1])
  return {1, ARGV[1]}
end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('SADD', KEYS[2], KEYS[1])
  return {1, holder}
end
return {0, holder}
`);

/** KEYS: slot, held. ARGV: runId. Frees the slot only if this run holds it. Returns 1 when freed. */
export const RELEASE_SLOT = new LuaScript(`
redis.call('SREM', KEYS[2], KEYS[1])
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);

/**
 * KEYS: unjournaled, journaled. ARGV: events key prefix. Every run the journal may lack events of, as flat
 * triples (runId, lastSeq, journaledSeq), read in one step so the figures agree with each other.
 */
export const BACKLOG = new LuaScript(`
local out = {}
for _, run in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[#out + 1] = run
  out[#out + 1] = redis.call('LLEN', ARGV[1] .. run)
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[2], run) or '0')
end
return out
`);
