-- ARGV: round, user, reason ('' = they left). Their place or admission ends; seats they hold stay
-- held until released or expired.
if not loaded(ctx) then return missing(ctx) end
check(ctx)
local reason = ARGV[3]
if reason == '' then reason = nil end
end_place(ctx, ARGV[2], reason)
return {'ok'}
