-- ARGV: round, seconds the tombstone lasts. The round was deleted from the database: every key of
-- it goes, and `gone` stays, so that a load that read the database before the deletion cannot
-- bring it back (load.lua) and every instance is refused it at once. Subscribers are told.
-- (No `check`: DEL and SET take keys of any type, so nothing here can fail half way.)
redis.call('DEL', ctx.seats, ctx.owned, ctx.seq, ctx.log, ctx.last, ctx.deadlines, ctx.gate, ctx.order, ctx.place,
           ctx.head, ctx.admitted, ctx.recent, ctx.seen, ctx.done, ctx.addresses, ctx.stats)
redis.call('SET', ctx.gone, '1', 'EX', tonumber(ARGV[2]))
redis.call(PUBLISH, ctx.channel, '{"round_id":' .. ctx.round .. ',"deleted":true}')
return {'ok'}
