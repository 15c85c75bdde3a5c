-- ARGV: round, now ms ('' = Redis clock), max holds to expire. Expires this round's due holds;
-- idempotent, so every instance may run it at once (redis_engine.py: expire_due says how the
-- rounds to sweep are found). Returns {seat, user, seat, user, ... of each hold it expired} and the
-- round's next deadline ('' if it has none left).
local now = tonumber(ARGV[2]) or clock_ms()
local expired = {}
if loaded(ctx) then
  check(ctx)
  for _, seat in ipairs(redis.call('ZRANGEBYSCORE', ctx.deadlines, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
    local value = redis.call('HGET', ctx.seats, seat)
    local user, expires = nil, nil
    if value then user, expires = string.match(value, '^h|(%d+)|(%d+)') end
    if expires and tonumber(expires) <= now then
      end_hold(ctx, seat, value, expires)
      expired[#expired + 1] = tonumber(seat)
      expired[#expired + 1] = tonumber(user)
    elseif not expires then
      redis.call('ZREM', ctx.deadlines, seat)     -- no longer held: a stale deadline
    end
  end
  emit(ctx)
else
  redis.call('DEL', ctx.deadlines)               -- a lost or deleted round holds nothing
end
local next_deadline = redis.call('ZRANGE', ctx.deadlines, 0, 0, 'WITHSCORES')[2]
return {expired, next_deadline and string.format('%d', tonumber(next_deadline)) or ''}
