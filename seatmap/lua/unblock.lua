-- ARGV: round, seat ids...
if not loaded(ctx) then return missing(ctx) end
check(ctx)
for i = 2, #ARGV do
  if redis.call('HGET', ctx.seats, ARGV[i]) == 'b' then set_seat(ctx, ARGV[i], false, 'available', nil) end
end
emit(ctx)
return {'ok'}
