-- Shared by the waiting line's scripts (line_*.lua; seatmap/line.py says what the line does).
local function head_of(ctx)
  return tonumber(redis.call('GET', ctx.head) or '0')
end

local function user_of(place)
  return string.match(place, '^(%d+)|')
end

local function last_minute(ctx, now)
  return redis.call('ZCOUNT', ctx.recent, now - MINUTE_MS, '+inf')
end

local function ms(value)
  if value then return string.format('%d', value) end
  return ''
end

-- A user's place ends (they left: no reason; their admission ran out or they paid: the reason).
local function end_place(ctx, user, reason)
  local place = redis.call('HGET', ctx.place, user)
  if place then
    local address = string.match(place, '^%d+|%d+|(.*)$')
    if address and address ~= '' then redis.call('HINCRBY', ctx.addresses, address, -1) end
    redis.call('HDEL', ctx.place, user)
  end
  redis.call('ZREM', ctx.admitted, user)
  if reason then redis.call('HSET', ctx.done, user, reason) else redis.call('HDEL', ctx.done, user) end
end

-- The user's place is over, though not yet swept by an admission step: their admission ran out
-- (and they own no seats), or the head passed it without admitting them.
local function over(ctx, g, user, place, now)
  if redis.call('ZSCORE', ctx.admitted, user) then return not admitted(ctx, user, now) end
  if g.opens and now < g.opens then return false end
  return redis.call('ZRANK', ctx.order, place) < head_of(ctx)
end

-- What a user is told of their place (seatmap/line.py Place): status, rank ('' unknown), head,
-- admitted until ('' none), reason (''), opens ('' on sale), admissions in the last minute.
local function answer(ctx, user, now)
  local g = gate_of(ctx)
  local head, recent = head_of(ctx), last_minute(ctx, now)
  local opens = ms(g.opens)
  if not g.queued then return {'admitted', '', head, '', '', opens, recent} end
  if admitted(ctx, user, now) then
    return {'admitted', '', head, ms(tonumber(redis.call('ZSCORE', ctx.admitted, user))), '', opens, recent}
  end
  local place = redis.call('HGET', ctx.place, user)
  if not place then
    local reason = redis.call('HGET', ctx.done, user)
    if reason then return {'closed', '', head, '', reason, opens, recent} end
    return {'none', '', head, '', '', opens, recent}
  end
  if g.opens and now < g.opens then return {'waiting', '', head, '', '', opens, recent} end
  local rank = redis.call('ZRANK', ctx.order, place)
  if rank < head then return {'closed', '', head, '', 'expired', opens, recent} end   -- ran out, not yet swept
  if sold_out(ctx, g) then return {'closed', rank, head, '', 'sold_out', opens, recent} end
  return {'waiting', rank, head, '', '', opens, recent}
end
