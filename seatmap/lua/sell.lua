-- ARGV: round, user, seat ids... The database has made these seats a pending reservation of
-- this user: they become theirs, whatever the engine had.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local value = 'p|' .. ARGV[2]
for i = 3, #ARGV do
  if redis.call('HGET', ctx.seats, ARGV[i]) ~= value then set_seat(ctx, ARGV[i], value, 'pending', ARGV[2]) end
end
emit(ctx)
return {'ok'}
