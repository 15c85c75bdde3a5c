-- ARGV: round, user, now ms ('' = Redis clock), the user's draw in [0, 1) (the pre-queue's order),
-- client address ('' unknown), places one address may have (0: any). A user with a place keeps it;
-- one whose place is over (not yet swept) gets a new one, as after the sweep.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local user, now = ARGV[2], tonumber(ARGV[3]) or clock_ms()
local g = gate_of(ctx)
local had = redis.call('HGET', ctx.place, user)
if g.queued and had and over(ctx, g, user, had, now) then end_place(ctx, user, 'expired') end
if g.queued and redis.call('HEXISTS', ctx.place, user) == 0 then
  if g.opens and now < g.opens - g.prequeue then return {'not_open', ms(g.opens - g.prequeue)} end
  local address, cap = ARGV[5], tonumber(ARGV[6])
  if address ~= '' and cap > 0 and tonumber(redis.call('HGET', ctx.addresses, address) or '0') >= cap then
    return {'address', ms(cap)}
  end
  local serial = redis.call('HINCRBY', ctx.stats, 'serial', 1)
  local place = user .. '|' .. serial .. '|' .. address
  local key = 1 + serial
  if g.opens and now < g.opens then key = tonumber(ARGV[4]) end
  redis.call('ZADD', ctx.order, key, place)
  redis.call('HSET', ctx.place, user, place)
  redis.call('HDEL', ctx.done, user)
  if address ~= '' then redis.call('HINCRBY', ctx.addresses, address, 1) end
end
redis.call('HSET', ctx.seen, user, ms(now))
return answer(ctx, user, now)
