-- ARGV: round, now ms ('' = Redis clock), users... Each user's place (line_prelude.lua answer), one
-- after the other: for the queue sockets, which look at many users at once.
if not loaded(ctx) then return missing(ctx) end
local now = tonumber(ARGV[2]) or clock_ms()
local out = {'ok'}
for i = 3, #ARGV do
  for _, value in ipairs(answer(ctx, ARGV[i], now)) do out[#out + 1] = value end
end
return out
