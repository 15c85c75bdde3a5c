-- ARGV: round, the gate (write_gate). The round's sale opening or waiting room changed: every hold
-- checks the new gate from now on. The round need not be loaded: a load keeps the newer gate.
if redis.call('EXISTS', ctx.gone) == 1 then return {'gone'} end
check(ctx)
write_gate(ctx, 2)
return {'ok'}
