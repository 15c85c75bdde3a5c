-- ARGV: (round slot unused: '0'), now ms ('' = Redis clock), max holds to expire.
-- Expires due holds across rounds; idempotent, so every instance may run it at once.
-- Returns round, seat, user of each hold it expired, flat.
local now = tonumber(ARGV[2]) or clock_ms()
local due = redis.call('ZRANGEBYSCORE', DEADLINES, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local rounds, order, expired = {}, {}, {}
for _, member in ipairs(due) do
  local round, seat = string.match(member, '^(%d+):(%d+)$')
  local rc = rounds[round]
  if not rc then rc = round_ctx(round); rounds[round] = rc; order[#order + 1] = round end
  local value = loaded(rc) and redis.call('HGET', rc.seats, seat)
  local user, expires = nil, nil
  if value then user, expires = string.match(value, '^h|(%d+)|(%d+)') end
  if expires and tonumber(expires) <= now then
    end_hold(rc, seat, value, expires)
    expired[#expired + 1] = round
    expired[#expired + 1] = seat
    expired[#expired + 1] = user
  elseif not expires then
    redis.call('ZREM', DEADLINES, member)     -- no longer held: a stale deadline
  end
end
for _, round in ipairs(order) do emit(rounds[round]) end
return expired
