-- ARGV: round, seat ids... Not for sale. A held seat can be blocked; a sold one cannot.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local sold = {}
for i = 2, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value == 's' or (value and string.sub(value, 1, 1) == 'p') then sold[#sold + 1] = tonumber(ARGV[i]) end
end
if #sold > 0 then return {'taken', sold} end
local held = 0
for i = 2, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value and string.sub(value, 1, 1) == 'h' then held = held + 1 end
  if not value or string.sub(value, 1, 1) == 'h' then set_seat(ctx, ARGV[i], 'b', 'blocked', nil) end
end
emit(ctx)
return {'ok', held}
