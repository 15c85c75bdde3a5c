-- ARGV: round, seconds the tombstone lasts. The round was deleted from the database: every key of
-- it goes, and `gone` stays, so that a load that read the database before the deletion cannot
-- bring it back (load.lua) and every instance is refused it at once. Subscribers are told.
local current = redis.call('HGETALL', ctx.seats)
for i = 1, #current, 2 do
  if string.sub(current[i + 1], 1, 1) == 'h' then redis.call('ZREM', DEADLINES, ctx.round .. ':' .. current[i]) end
end
redis.call('DEL', ctx.seats, ctx.owned, ctx.seq, ctx.log, ctx.last)
redis.call('SET', ctx.gone, '1', 'EX', tonumber(ARGV[2]))
redis.call('PUBLISH', CHANNEL .. ctx.round, '{"round_id":' .. ctx.round .. ',"deleted":true}')
return {'ok'}
