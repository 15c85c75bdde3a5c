-- ARGV: round, user, seat ids... Releases what this user holds of them; the rest is ignored.
if not loaded(ctx) then return missing(ctx) end
local mine = 'h|' .. ARGV[2] .. '|'
local released = {}
for i = 3, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value and string.sub(value, 1, #mine) == mine then
    set_seat(ctx, ARGV[i], false, 'available', nil)
    released[#released + 1] = tonumber(ARGV[i])
  end
end
emit(ctx)
return {'ok', released}
