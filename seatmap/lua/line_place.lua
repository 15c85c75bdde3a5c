-- ARGV: round, user, now ms ('' = Redis clock). The user's place; looking is a sign of life.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local user, now = ARGV[2], tonumber(ARGV[3]) or clock_ms()
if redis.call('HEXISTS', ctx.place, user) == 1 then redis.call('HSET', ctx.seen, user, ms(now)) end
return answer(ctx, user, now)
