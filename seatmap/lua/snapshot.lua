-- ARGV: round. The seq and every non-available seat, read together.
if not loaded(ctx) then return missing(ctx) end
return {'ok', redis.call('GET', ctx.seq), redis.call('HGETALL', ctx.seats)}
