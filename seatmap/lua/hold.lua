-- KEYS: the round's keys, then the user's request times (count_request).
-- The gate first (gate_refusal): not before the sale opens, and with a waiting room only while the
-- user's admission runs. ARGV: round, user, ttl ms, limit, now ms ('' = Redis clock), max hold ms (0 = no cap), cooldown ms,
-- the number of rate values, the rate values, seat ids... All or nothing. Re-holding your own seat
-- extends it, never past `max hold` after the user's hold on it began; a hold of theirs that ended
-- less than `cooldown` ago carries on.
if not loaded(ctx) then return missing(ctx) end
local user, ttl, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = tonumber(ARGV[5]) or clock_ms()
local cap, cooldown = tonumber(ARGV[6]), tonumber(ARGV[7])
local rates, seats = rates_and_seats(8)
local refusal = gate_refusal(ctx, user, now)
if refusal then return refusal end
check(ctx, {{KEYS[EXTRA], 'list'}}, SEAT_CHANGE)
local wait = count_request(KEYS[EXTRA], rates, now)
if wait then return {'rate', string.format('%d', wait)} end
local mine = 'h|' .. user .. '|'
local taken, fresh, since, ends = {}, 0, {}, {}
for i, seat in ipairs(seats) do
  local value = redis.call('HGET', ctx.seats, seat)
  if not value then
    fresh = fresh + 1
    since[i] = now
    local last = redis.call('HGET', ctx.last, seat)
    if last then
      local who, began, ended = string.match(last, '^(%d+)|(%d+)|(%d+)$')
      if who == user and tonumber(ended) + cooldown > now then since[i], ends[i] = tonumber(began), tonumber(ended) end
    end
  elseif string.sub(value, 1, #mine) == mine then
    -- (a hold written before holds had a start has none: it starts now)
    since[i] = tonumber(string.match(value, '^h|%d+|%d+|(%d+)$')) or now
    ends[i] = tonumber(string.match(value, '^h|%d+|(%d+)'))
  else
    taken[#taken + 1] = tonumber(seat)
  end
end
if #taken > 0 then return {'taken', taken} end
if cap > 0 then
  local over, longest = {}, 0
  for i, seat in ipairs(seats) do
    if since[i] + cap <= now then
      over[#over + 1] = tonumber(seat)
      longest = math.max(longest, ends[i] + cooldown - now)
    end
  end
  if #over > 0 then return {'hold_time', over, string.format('%d', longest)} end
end
local owned = tonumber(redis.call('HGET', ctx.owned, user) or '0')
if owned + fresh > limit then return {'limit', owned} end
local earliest = nil
for i, seat in ipairs(seats) do
  local expires = now + ttl
  if cap > 0 then expires = math.min(expires, since[i] + cap) end
  if not earliest or expires < earliest then earliest = expires end
  set_seat(ctx, seat, mine .. string.format('%d|%d', expires, since[i]), 'held', user)
  redis.call('HDEL', ctx.last, seat)      -- the seat has a holder again: the old one is history
  redis.call('ZADD', ctx.deadlines, expires, seat)
end
emit(ctx)
return {'ok', string.format('%d', earliest)}
