-- ARGV: round, now ms ('' = Redis clock), grace ms, rate factor (0, 1], places to look at most,
-- step ms (how often steps come; 0: no pacing). One admission step (seatmap/line.py), safe on every
-- instance at once: the caps are read and kept in this one atomic step. Admissions are paced: a
-- step may admit what the rate allows for the time since the last step (by any instance), so the
-- minute's allowance comes in a steady stream instead of all at the opening. Returns
-- {admitted now, head}.
if not loaded(ctx) then return missing(ctx) end
local now = tonumber(ARGV[2]) or clock_ms()
local grace, factor, budget, step = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local g = gate_of(ctx)
if not g.queued or (g.opens and now < g.opens) then return {0, head_of(ctx)} end
check(ctx)
for _, user in ipairs(redis.call('ZRANGEBYSCORE', ctx.admitted, '-inf', now, 'LIMIT', 0, budget)) do
  if tonumber(redis.call('HGET', ctx.owned, user) or '0') > 0 then
    redis.call('ZADD', ctx.admitted, now + OWNER_RECHECK_MS, user)     -- runs on while they own seats
  else
    end_place(ctx, user, 'expired')
  end
end
redis.call('ZREMRANGEBYSCORE', ctx.recent, '-inf', now - MINUTE_MS)
local head = head_of(ctx)
if sold_out(ctx, g) then return {0, head} end
local rate = math.max(1, math.floor(g.per_minute * factor))
local room = math.min(g.active - redis.call('ZCARD', ctx.admitted), rate - redis.call('ZCARD', ctx.recent))
local credit = nil
if step > 0 then
  local last = tonumber(redis.call('HGET', ctx.stats, 'stepped_at') or '')
  local since = last and math.max(0, now - last) or step
  local most = math.max(1, rate * step / MINUTE_MS) * 2      -- a pause does not save up a burst
  credit = math.min((tonumber(redis.call('HGET', ctx.stats, 'credit') or '0')) + rate * since / MINUTE_MS, most)
  room = math.min(room, math.floor(credit))
end
local size, admitted_now, looked = redis.call('ZCARD', ctx.order), 0, 0
while room > 0 and head < size and looked < budget do
  local place = redis.call('ZRANGE', ctx.order, head, head)[1]
  head, looked = head + 1, looked + 1
  local user = user_of(place)
  if redis.call('HGET', ctx.place, user) == place then          -- (else: they left, or have a newer place)
    if tonumber(redis.call('HGET', ctx.seen, user) or '0') + grace < now then
      end_place(ctx, user, 'expired')
    else
      redis.call('ZADD', ctx.admitted, now + g.session, user)
      redis.call('ZADD', ctx.recent, now, place)
      redis.call('HINCRBY', ctx.stats, 'admitted_total', 1)
      admitted_now, room = admitted_now + 1, room - 1
    end
  end
end
redis.call('SET', ctx.head, head)
if credit then
  redis.call('HSET', ctx.stats, 'stepped_at', ms(now), 'credit', string.format('%.6f', credit - admitted_now))
end
return {admitted_now, head}
