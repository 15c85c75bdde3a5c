-- Shared by every seat-map script. A round lives in keys under one hash tag, all of them passed
-- in KEYS (in this order: seatmap/redis_engine.py:round_keys), so that on a Redis Cluster a script
-- runs on the node owning the round's slot and touches nothing else:
--   seats      hash  seat -> "h|<user>|<expires ms>|<since ms>" held, "p|<user>" pending, "s" sold, "b" blocked
--   owned      hash  user -> number of seats held or pending (the per-user limit)
--   seq        the round's change counter; its absence means "not loaded from the database"
--   log        stream of deltas with id "<seq>-0", capped, for `resume`
--   last       hash  seat -> "<user>|<since ms>|<ended ms>": the seat's last holder, once the hold ended
--   gone       set when the round was deleted: it is never loaded again (expires after a day)
--   deadlines  zset  seat -> the ms its hold expires, for the sweeper (expire.lua)
--   channel    the round's pub/sub channel (not a key, but it carries the tag: SPUBLISH in a
--              script is slot-checked)
-- ARGV[1] is the round id, for the deltas' payloads.
--
-- No half-applied scripts: Redis does not undo a script's earlier writes when a later command in it
-- fails. So each script calls `check` (a wrong-typed key, a seq that is no number, a log ahead of
-- seq: everything that makes a later write fail) before its first write, and the engine registers
-- every script with a `#!lua` shebang, which makes Redis refuse it at the start when out of memory.
-- PUBLISH becomes SPUBLISH on a cluster (the engine swaps it when it loads the scripts).
local PUBLISH = 'PUBLISH'
local HISTORY = 1000

local function round_ctx()
  return {round = ARGV[1], seats = KEYS[1], owned = KEYS[2], seq = KEYS[3], log = KEYS[4], last = KEYS[5],
          gone = KEYS[6], deadlines = KEYS[7], channel = KEYS[8], changes = {}}
end

local function loaded(ctx)
  return redis.call('EXISTS', ctx.seq) == 1
end

local KINDS = {seats = 'hash', owned = 'hash', seq = 'string', log = 'stream', last = 'hash', gone = 'string',
               deadlines = 'zset'}

local function refuse(what)
  error({err = 'TBSTATE round ' .. ARGV[1] .. ': ' .. what .. '; nothing was changed'})
end

-- Raises (nothing written yet) if a write of this script could fail: `extra` names more keys and
-- their types ({key, 'list'}, ...).
local function check(ctx, extra)
  for name, kind in pairs(KINDS) do
    local found = redis.call('TYPE', ctx[name])['ok']
    if found ~= 'none' and found ~= kind then refuse(ctx[name] .. ' is a ' .. found .. ', not a ' .. kind) end
  end
  for _, pair in ipairs(extra or {}) do
    local found = redis.call('TYPE', pair[1])['ok']
    if found ~= 'none' and found ~= pair[2] then refuse(pair[1] .. ' is a ' .. found .. ', not a ' .. pair[2]) end
  end
  local seq = redis.call('GET', ctx.seq)
  if seq and not string.match(seq, '^%d+$') then refuse('seq is not a number') end
  local top = redis.call('XREVRANGE', ctx.log, '+', '-', 'COUNT', 1)[1]
  if seq and top and tonumber(string.match(top[1], '^(%d+)')) > tonumber(seq) then
    refuse('the log is ahead of seq')
  end
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
  if old and string.sub(old, 1, 1) == 'h' then redis.call('ZREM', ctx.deadlines, seat) end
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
  redis.call(PUBLISH, ctx.channel, payload)
end

local ctx = round_ctx()
