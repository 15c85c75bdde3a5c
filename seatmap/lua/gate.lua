-- ARGV: round, the gate (write_gate). The round's sale opening or waiting room changed: every hold
-- checks the new gate from now on.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
write_gate(ctx, 2)
return {'ok'}
