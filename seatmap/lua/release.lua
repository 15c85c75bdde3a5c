-- KEYS: the round's keys, then the user's request times (count_request).
-- ARGV: round, user, now ms ('' = Redis clock), the number of rate values, the rate values, seat ids...
-- Releases what this user holds of them; the rest is ignored.
if not loaded(ctx) then return missing(ctx) end
local mine = 'h|' .. ARGV[2] .. '|'
local now = tonumber(ARGV[3]) or clock_ms()
local rates, seats = rates_and_seats(4)
check(ctx, {{KEYS[EXTRA], 'list'}}, SEAT_CHANGE)
local wait = count_request(KEYS[EXTRA], rates, now)
if wait then return {'rate', string.format('%d', wait)} end
local released = {}
for _, seat in ipairs(seats) do
  local value = redis.call('HGET', ctx.seats, seat)
  if value and string.sub(value, 1, #mine) == mine then
    end_hold(ctx, seat, value, string.format('%d', now))
    released[#released + 1] = tonumber(seat)
  end
end
emit(ctx)
return {'ok', released}
