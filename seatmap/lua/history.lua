-- ARGV: round, the seq after which deltas are wanted, how many at most. The round's seq and the
-- deltas after that seq, read together (false for seq: not loaded).
return {redis.call('GET', ctx.seq), redis.call('XRANGE', ctx.log, string.format('%d-0', tonumber(ARGV[2]) + 1), '+',
                                                'COUNT', tonumber(ARGV[3]))}
