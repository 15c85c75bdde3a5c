-- ARGV: round, now ms ('' = Redis clock). {waiting, admissions running, admitted in total, in the
-- last minute, head, sold out (1/0), the sale's opening ('' none)}.
if not loaded(ctx) then return missing(ctx) end
local now = tonumber(ARGV[2]) or clock_ms()
local active, g = redis.call('ZCARD', ctx.admitted), gate_of(ctx)
return {'ok', redis.call('HLEN', ctx.place) - active, active,
        tonumber(redis.call('HGET', ctx.stats, 'admitted_total') or '0'), last_minute(ctx, now), head_of(ctx),
        sold_out(ctx, g) and 1 or 0, ms(g.opens)}
