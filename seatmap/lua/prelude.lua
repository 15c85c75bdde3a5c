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
--   gate       hash  what a hold checks first (write_gate): opens (ms; '' = on sale), queued ('1': a
--                    waiting room), its rules (prequeue, active, per_minute, session: ms and counts),
--                    total (the round's seats, for "sold out"), version. Unlike the others it may
--                    exist before the round is loaded (gate.lua does not load it).
-- The waiting room's line (line_*.lua; server/waiting_room.py says what it does):
--   order      zset  place -> order key. A place is "<user>|<serial>|<address>"; joining before the
--                    opening draws a key in [0, 1) (the pre-queue: a random order), later 1 + serial
--   place      hash  user -> their place now (none once they left, paid or their admission ended)
--   head       the rank in `order` of the next place to consider for admission
--   admitted   zset  user -> the ms their admission runs until (longer while they own seats)
--   recent     zset  place -> the ms it was admitted, for the last minute's admissions
--   seen       hash  user -> the ms of their last sign of life (a socket, a look at their place)
--   done       hash  user -> why their last place ended (expired, finished)
--   addresses  hash  client address -> places taken from it
--   stats      hash  serial, waiting, admitted_total
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
local MINUTE_MS = 60000
local OWNER_RECHECK_MS = 5000    -- seatmap/line.py

local EXTRA = 19                  -- the first key after the round's (a user's request times)

local function round_ctx()
  return {round = ARGV[1], seats = KEYS[1], owned = KEYS[2], seq = KEYS[3], log = KEYS[4], last = KEYS[5],
          gone = KEYS[6], deadlines = KEYS[7], gate = KEYS[8], order = KEYS[9], place = KEYS[10], head = KEYS[11],
          admitted = KEYS[12], recent = KEYS[13], seen = KEYS[14], done = KEYS[15], addresses = KEYS[16],
          stats = KEYS[17], channel = KEYS[18], changes = {}}
end

local function loaded(ctx)
  return redis.call('EXISTS', ctx.seq) == 1
end

local KINDS = {seats = 'hash', owned = 'hash', seq = 'string', log = 'stream', last = 'hash', gone = 'string',
               deadlines = 'zset', gate = 'hash', order = 'zset', place = 'hash', head = 'string', admitted = 'zset',
               recent = 'zset', seen = 'hash', done = 'hash', addresses = 'hash', stats = 'hash'}

local function refuse(what)
  error({err = 'TBSTATE round ' .. ARGV[1] .. ': ' .. what .. '; nothing was changed'})
end

-- The round's keys a change of seats touches (set_seat, end_hold, emit): what hold and release,
-- the busiest scripts, check, rather than all of them (each look is a call of its own).
local SEAT_CHANGE = {'seats', 'owned', 'seq', 'log', 'last', 'deadlines'}

-- Raises (nothing written yet) if a write of this script could fail: `names` are the round's keys it
-- touches after its first write (nil: all of them), `extra` more keys and their types ({key, 'list'}, ...).
local function check(ctx, extra, names)
  local function expect(key, kind)
    local found = redis.call('TYPE', key)['ok']
    if found ~= 'none' and found ~= kind then refuse(key .. ' is a ' .. found .. ', not a ' .. kind) end
  end
  if names then
    for _, name in ipairs(names) do expect(ctx[name], KINDS[name]) end
  else
    for name, kind in pairs(KINDS) do expect(ctx[name], kind) end
    local head = redis.call('GET', ctx.head)
    if head and not string.match(head, '^%d+$') then refuse('head is not a number') end
  end
  for _, pair in ipairs(extra or {}) do expect(pair[1], pair[2]) end
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
-- The log is trimmed roughly ('~': a whole node of entries at a time, 0.6 µs an XADD against 1.9-3.1
-- exact): it keeps HISTORY deltas or up to a node more, and the engine replays only the last HISTORY.
local function emit(ctx)
  if #ctx.changes == 0 then return end
  local seq = string.format('%d', redis.call('INCR', ctx.seq))
  local payload = '{"round_id":' .. ctx.round .. ',"seq":' .. seq .. ',"changes":' .. cjson.encode(ctx.changes) .. '}'
  redis.call('XADD', ctx.log, 'MAXLEN', '~', HISTORY, seq .. '-0', 'd', payload)
  redis.call(PUBLISH, ctx.channel, payload)
end

-- The gate, as gate.lua and load.lua write it from ARGV[at] on: opens, queued, prequeue, active,
-- per_minute, session, total, version. Only a newer version than the one kept is written: changes
-- that race, or a load that read the database before a change committed, cannot bring an older back.
local GATE_FIELDS = {'opens', 'queued', 'prequeue', 'active', 'per_minute', 'session', 'total', 'version'}

local function write_gate(ctx, at)
  local kept = redis.call('HGET', ctx.gate, 'version')
  if (tonumber(kept) or -1) > tonumber(ARGV[at + #GATE_FIELDS - 1]) then return end
  local pairs_ = {}
  for i, name in ipairs(GATE_FIELDS) do
    pairs_[#pairs_ + 1] = name
    pairs_[#pairs_ + 1] = ARGV[at + i - 1]
  end
  redis.call('HSET', ctx.gate, unpack(pairs_))
end

local function gate_of(ctx)
  local g = redis.call('HMGET', ctx.gate, unpack(GATE_FIELDS))
  return {opens = tonumber(g[1]), queued = g[2] == '1', prequeue = tonumber(g[3]) or 0, active = tonumber(g[4]) or 0,
          per_minute = tonumber(g[5]) or 0, session = tonumber(g[6]) or 0, total = tonumber(g[7]) or 0}
end

-- The user's admission still runs: its time is not up, or they own seats (held or pending).
local function admitted(ctx, user, now)
  local until_ms = redis.call('ZSCORE', ctx.admitted, user)
  if not until_ms then return false end
  return tonumber(until_ms) > now or tonumber(redis.call('HGET', ctx.owned, user) or '0') > 0
end

-- 1 for the next to be admitted; nil before the opening, or for a user not waiting.
local function position(ctx, g, user, now)
  if g.opens and now < g.opens then return nil end
  local place = redis.call('HGET', ctx.place, user)
  if not place then return nil end
  local rank = redis.call('ZRANK', ctx.order, place)
  local head = tonumber(redis.call('GET', ctx.head) or '0')
  if rank < head then return nil end
  return rank - head + 1
end

-- Why this user may not hold now (nil: they may): the sale has not opened, or there is a waiting
-- room and their admission does not run.
local function gate_refusal(ctx, user, now)
  local g = gate_of(ctx)
  if g.opens and now < g.opens then return {'not_open', string.format('%d', g.opens)} end
  if g.queued and not admitted(ctx, user, now) then return {'not_admitted', position(ctx, g, user, now) or ''} end
  return nil
end

-- No seat of the round is available or held: every seat is pending, sold or blocked (a held seat
-- has a deadline; every seat the hash names but those is pending, sold or blocked).
local function sold_out(ctx, g)
  return g.total > 0 and redis.call('HLEN', ctx.seats) - redis.call('ZCARD', ctx.deadlines) >= g.total
end

local ctx = round_ctx()
