-- ARGV: round, the gate (write_gate: 8 values), then seat/value pairs from the database. Only if the round is not loaded
-- (another instance may have just done it) and was not deleted (-1). seq starts at the clock in microseconds, so after
-- Redis lost a round its seq still only grows (unless it ran over a million deltas a second) and old `resume` positions cannot match new deltas.
if loaded(ctx) then return 0 end
if redis.call('EXISTS', ctx.gone) == 1 then return -1 end     -- deleted meanwhile (drop.lua)
-- (No `check`: what could be in the way is deleted first, and DEL takes keys of any type; but the
-- gate may be newer than what the load read (gate.lua), so it is only replaced by a newer one, and
-- deleted only if it is not a hash. The waiting room's line is not the database's: whatever of it
-- survived stays.)
redis.call('DEL', ctx.seats, ctx.owned, ctx.log, ctx.last, ctx.deadlines)
if redis.call('TYPE', ctx.gate)['ok'] ~= 'hash' then redis.call('DEL', ctx.gate) end
write_gate(ctx, 2)
for i = 2 + #GATE_FIELDS, #ARGV, 2 do
  redis.call('HSET', ctx.seats, ARGV[i], ARGV[i + 1])
  local user = holder(ARGV[i + 1])
  if user then redis.call('HINCRBY', ctx.owned, user, 1) end
end
local seq = string.format('%d', clock_us())
redis.call('SET', ctx.seq, seq)
-- A delta with no changes tells subscribers the round was rebuilt (holds may be gone): their seq
-- jumps, so they take a fresh snapshot. It is not kept for `resume`: it is not a change.
redis.call(PUBLISH, ctx.channel, '{"round_id":' .. ctx.round .. ',"seq":' .. seq .. ',"changes":[]}')
return 1
