-- Shared by every seat-map script. A round lives in keys under one hash tag:
--   seats  hash  seat -> "h|<user>|<expires ms>|<since ms>" held, "p|<user>" pending, "s" sold, "b" blocked
--   owned  hash  user -> number of seats held or pending (the per-user limit)
--   seq    the round's change counter; its absence means "not loaded from the database"
--   log    stream of deltas with id "<seq>-0", capped, for `resume`
--   last   hash  seat -> "<user>|<since ms>|<ended ms>": the seat's last holder, once the hold ended
--   gone   set when the round was deleted: it is never loaded again (expires after a day)
-- plus one global zset of hold deadlines, member "<round>:<seat>", for the sweeper.
-- Key names must match seatmap/redis_engine.py:round_keys.
local DEADLINES = 'tb:deadlines'
-- Pub/sub channels are shared by every database of a Redis server: the engine puts its database
-- number in this prefix when it loads the scripts (redis_engine.py), so deployments never cross-talk.
local CHANNEL = 'tb:d:'
local HISTORY = 1000

local function round_ctx(round)
  local base = 'tb:{r:' .. round .. '}:'
  return {round = round, seats = base .. 'seats', owned = base .. 'owned', seq = base .. 'seq',
          log = base .. 'log', last = base .. 'last', gone = base .. 'gone', changes = {}}
end

local function loaded(ctx)
  return redis.call('EXISTS', ctx.seq) == 1
end

-- What a script answers for a round it does not have: load it first, or it was deleted.
local function missing(ctx)
  if redis.call('EXISTS', ctx.gone) == 1 then return {'gone'} end
  return {'not_loaded'}
end

local function clock_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function clock_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function holder(value)
  if not value then return nil end
  return string.match(value, '^[hp]|(%d+)')
end

-- Change one seat, keeping the per-user counts and the deadlines in step, and record the change.
local function set_seat(ctx, seat, value, state, user)
  local old = redis.call('HGET', ctx.seats, seat)
  local old_user = holder(old)
  if old_user then redis.call('HINCRBY', ctx.owned, old_user, -1) end
  if old and string.sub(old, 1, 1) == 'h' then redis.call('ZREM', DEADLINES, ctx.round .. ':' .. seat) end
  if value then
    redis.call('HSET', ctx.seats, seat, value)
    if user then redis.call('HINCRBY', ctx.owned, user, 1) end
  else
    redis.call('HDEL', ctx.seats, seat)
  end
  local change = {tonumber(seat), state}
  if user then change[3] = tonumber(user) end
  ctx.changes[#ctx.changes + 1] = change
end

-- A hold ends (released, or expired at its deadline): the seat is available, and remembers who
-- held it since when, so that holding it again soon carries on from then (the hold cap, hold.lua).
local function end_hold(ctx, seat, value, ended)
  local user, since = string.match(value, '^h|(%d+)|%d+|(%d+)$')
  if user then redis.call('HSET', ctx.last, seat, user .. '|' .. since .. '|' .. ended) end
  set_seat(ctx, seat, false, 'available', nil)
end

-- One delta for everything this script changed: bump seq, keep it, publish it.
-- seq has 16 digits (it starts at the clock in microseconds): exact in a Lua double, but
-- cjson and tostring print only 14, so it is formatted with %d.
local function emit(ctx)
  if #ctx.changes == 0 then return end
  local seq = string.format('%d', redis.call('INCR', ctx.seq))
  local payload = '{"round_id":' .. ctx.round .. ',"seq":' .. seq .. ',"changes":' .. cjson.encode(ctx.changes) .. '}'
  redis.call('XADD', ctx.log, 'MAXLEN', HISTORY, seq .. '-0', 'd', payload)
  redis.call('PUBLISH', CHANNEL .. ctx.round, payload)
end

local ctx = round_ctx(ARGV[1])
