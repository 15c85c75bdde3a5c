-- ARGV: round, user, ttl ms, limit, now ms ('' = Redis clock), seat ids...
-- All or nothing. Re-holding your own seat extends it.
if not loaded(ctx) then return missing(ctx) end
local user, ttl, limit = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = tonumber(ARGV[5]) or clock_ms()
local mine = 'h|' .. user .. '|'
local taken, fresh = {}, 0
for i = 6, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if not value then
    fresh = fresh + 1
  elseif string.sub(value, 1, #mine) ~= mine then
    taken[#taken + 1] = tonumber(ARGV[i])
  end
end
if #taken > 0 then return {'taken', taken} end
local owned = tonumber(redis.call('HGET', ctx.owned, user) or '0')
if owned + fresh > limit then return {'limit', owned} end
local expires = now + ttl
for i = 6, #ARGV do
  set_seat(ctx, ARGV[i], mine .. expires, 'held', user)
  redis.call('ZADD', DEADLINES, expires, ARGV[1] .. ':' .. ARGV[i])
end
emit(ctx)
return {'ok', expires}
