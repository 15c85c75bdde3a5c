-- ARGV: round, seat ids... Paid: pending becomes sold. Viewers see no change, so no delta.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
for i = 2, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value and string.sub(value, 1, 1) == 'p' then
    redis.call('HINCRBY', ctx.owned, holder(value), -1)
    redis.call('HSET', ctx.seats, ARGV[i], 's')
  end
end
return {'ok'}
