-- ARGV: round, now ms ('' = Redis clock), users... These users' queue sockets are open.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local now = ms(tonumber(ARGV[2]) or clock_ms())
for i = 3, #ARGV do
  if redis.call('HEXISTS', ctx.place, ARGV[i]) == 1 then redis.call('HSET', ctx.seen, ARGV[i], now) end
end
return {'ok'}
