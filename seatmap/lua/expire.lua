-- ARGV: (round slot unused: '0'), now ms ('' = Redis clock), max holds to expire.
-- Expires due holds across rounds; idempotent, so every instance may run it at once.
local now = tonumber(ARGV[2]) or clock_ms()
local due = redis.call('ZRANGEBYSCORE', DEADLINES, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local rounds, order, expired = {}, {}, 0
for _, member in ipairs(due) do
  local round, seat = string.match(member, '^(%d+):(%d+)$')
  local rc = rounds[round]
  if not rc then rc = round_ctx(round); rounds[round] = rc; order[#order + 1] = round end
  local value = loaded(rc) and redis.call('HGET', rc.seats, seat)
  local expires = value and string.match(value, '^h|%d+|(%d+)$')
  if expires and tonumber(expires) <= now then
    set_seat(rc, seat, false, 'available', nil)
    expired = expired + 1
  elseif not expires then
    redis.call('ZREM', DEADLINES, member)     -- no longer held: a stale deadline
  end
end
for _, round in ipairs(order) do emit(rounds[round]) end
return expired
