-- ARGV: round, the seq the caller saw before it read the database, then seat/value pairs of the
-- database's truth ("p|<user>" pending, "s" sold, "b" blocked). Makes those states match it; holds
-- the truth does not contradict stay. Refused if the round changed since that seq: the change may
-- be the very sell or free the repair would do, arriving late, and the caller looks again later.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
if redis.call('GET', ctx.seq) ~= ARGV[2] then return {'changed'} end
local truth = {}
for i = 3, #ARGV, 2 do truth[ARGV[i]] = ARGV[i + 1] end
local current = redis.call('HGETALL', ctx.seats)
for i = 1, #current, 2 do
  if string.sub(current[i + 1], 1, 1) ~= 'h' and not truth[current[i]] then
    set_seat(ctx, current[i], false, 'available', nil)
  end
end
local states = {p = 'pending', s = 'sold', b = 'blocked'}
for seat, value in pairs(truth) do
  if redis.call('HGET', ctx.seats, seat) ~= value then
    set_seat(ctx, seat, value, states[string.sub(value, 1, 1)], holder(value))
  end
end
emit(ctx)
return {'ok'}
