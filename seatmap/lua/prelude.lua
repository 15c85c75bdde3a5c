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

-- Count one hold or release of a user against their rates: `rates` is the flat list amount, window ms,
-- amount, window ms...; `key` (the user's list in the round's slot, in KEYS) holds their request times,
-- newest first. The moving window of the `limits` library, done here so that the count costs no round
-- trip of its own and is atomic with the hold. Returns the ms until every window has room (nothing
-- written), or nil once the request is recorded.
local function count_request(key, rates, now)
  if #rates == 0 then return nil end
  local most, longest = 0, 0
  for i = 1, #rates, 2 do
    local amount, window = tonumber(rates[i]), tonumber(rates[i + 1])
    local oldest = redis.call('LINDEX', key, amount - 1)
    if oldest and tonumber(oldest) > now - window then return tonumber(oldest) + window - now end
    most, longest = math.max(most, amount), math.max(longest, window)
  end
  redis.call('LPUSH', key, string.format('%d', now))
  redis.call('LTRIM', key, 0, most - 1)
  redis.call('PEXPIRE', key, longest)
  return nil
end

-- The rates and the seat ids of a hold or release, from ARGV[at] (the number of rate values) on.
local function rates_and_seats(at)
  local rates, seats = {}, {}
  local n = tonumber(ARGV[at])
  for i = at + 1, at + n do rates[#rates + 1] = ARGV[i] end
  for i = at + n + 1, #ARGV do seats[#seats + 1] = ARGV[i] end
  return rates, seats
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
