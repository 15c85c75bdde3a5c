-- ARGV: round, seat ids... A reservation ended: its pending or sold seats are available again.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
for i = 2, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value == 's' or (value and string.sub(value, 1, 1) == 'p') then
    set_seat(ctx, ARGV[i], false, 'available', nil)
  end
end
emit(ctx)
return {'ok'}
