-- ARGV: round, user, now ms ('' = Redis clock), seat ids... Releases what this user holds of them;
-- the rest is ignored.
if not loaded(ctx) then return missing(ctx) end
local mine = 'h|' .. ARGV[2] .. '|'
local now = tonumber(ARGV[3]) or clock_ms()
local released = {}
for i = 4, #ARGV do
  local value = redis.call('HGET', ctx.seats, ARGV[i])
  if value and string.sub(value, 1, #mine) == mine then
    end_hold(ctx, ARGV[i], value, string.format('%d', now))
    released[#released + 1] = tonumber(ARGV[i])
  end
end
emit(ctx)
return {'ok', released}
