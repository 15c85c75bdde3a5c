"""No half-applied scripts: Redis does not undo a script's earlier writes when a later command in it
fails, so every seat-map script checks what could fail before its first write. Here a key of the
round's slot is planted with the wrong type, which fails a write late in the script (the log is
written last, after the seats, the counts and the deadlines): the script is refused, and the round's
seats, seq and deadlines are as before. On a single Redis and on a real Redis Cluster."""
from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from seatmap.engine import RoundTruth
from seatmap.model import HELD
from seatmap.redis_engine import RedisEngine, requests_key, round_keys
from server.redis_client import open_redis
from tests.support.backends import backend_url

ROUND = 7
HOUR = 3_600_000
FUTURE = 10 ** 15          # a clock (ms) at which every hold is due


async def truth(round_id):
    return RoundTruth()


@pytest.fixture(params=["redis", "cluster"])
async def engine(request):
    url = backend_url("REDIS_URL" if request.param == "redis" else "REDIS_CLUSTER_URL")
    client = await open_redis(url)
    await client.flushdb()
    engine = RedisEngine(client, truth)
    yield engine
    await engine.close()


async def state(engine) -> tuple:
    """What the round is: its seats and seq, and its deadlines as Redis keeps them."""
    snap = await engine.snapshot(ROUND)
    deadlines = await engine._redis.zrange(round_keys("tb", ROUND)[6], 0, -1, withscores=True)
    return snap.seq, snap.seats, deadlines


async def plant_wrong_log(engine) -> None:
    """The round's delta log (a stream) replaced by a string: XADD, the script's last write, fails."""
    log_key = round_keys("tb", ROUND)[3]
    await engine._redis.delete(log_key)
    await engine._redis.set(log_key, "not a stream")


async def test_a_hold_that_would_fail_half_way_changes_nothing(engine):
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    await plant_wrong_log(engine)
    before = await state(engine)
    with pytest.raises(ResponseError, match="nothing was changed"):
        await engine.hold(ROUND, 2, [2, 3], ttl_ms=HOUR, limit=8)
    assert await state(engine) == before
    seq, seats, deadlines = before
    assert set(seats) == {1} and seats[1].state == HELD and [seat for seat, _ in deadlines] == ["1"]


async def test_a_sweep_that_would_fail_half_way_changes_nothing(engine):
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8)
    await plant_wrong_log(engine)
    before = await state(engine)
    assert await engine.expire_due(now_ms=FUTURE) == []      # refused (and logged): nothing expired
    assert await state(engine) == before
    await engine._redis.delete(round_keys("tb", ROUND)[3])   # the log repaired: the holds expire now
    assert sorted((h.seat_id, h.user_id) for h in await engine.expire_due(now_ms=FUTURE)) == [(1, 1), (2, 1)]


@pytest.mark.parametrize("change", ["release", "block", "sell"])
async def test_other_changes_that_would_fail_half_way_change_nothing(engine, change):
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8)
    await plant_wrong_log(engine)
    before = await state(engine)
    with pytest.raises(ResponseError, match="nothing was changed"):
        if change == "release":
            await engine.release(ROUND, 1, [1])
        elif change == "block":
            await engine.block(ROUND, [1, 5])
        else:
            await engine.sell(ROUND, 1, [1, 2])
    assert await state(engine) == before


# hold and release check only the round's keys a change of seats touches (prelude.lua SEAT_CHANGE):
# each of them planted with the wrong type refuses the script before it counts the request.
SEAT_CHANGE = {"seats": 0, "owned": 1, "seq": 2, "log": 3, "last": 4, "deadlines": 6}


@pytest.mark.parametrize("planted", sorted(SEAT_CHANGE))
@pytest.mark.parametrize("change", ["hold", "release"])
async def test_a_hold_or_release_checks_every_key_a_change_of_seats_touches(engine, change, planted):
    rates = ((100, 60_000),)
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8, rates=rates)
    await engine.release(ROUND, 1, [2], rates=rates)         # seat 2 has a last holder now
    key = round_keys("tb", ROUND)[SEAT_CHANGE[planted]]
    await engine._redis.delete(key)
    if planted == "seq":
        await engine._redis.rpush(key, "not a counter")       # (a string of any content counts as loaded)
    else:
        await engine._redis.set(key, "not a " + planted)
    before = await every_key(engine, requests_key("tb", ROUND, 1))
    with pytest.raises(ResponseError, match="nothing was changed"):
        if change == "hold":
            await engine.hold(ROUND, 1, [2, 3], ttl_ms=HOUR, limit=8, rates=rates)
        else:
            await engine.release(ROUND, 1, [1], rates=rates)
    assert await every_key(engine, requests_key("tb", ROUND, 1)) == before


async def every_key(engine, *more: str) -> dict:
    """Every key of the round (and `more`), exactly as Redis holds it."""
    return {key: await engine._redis.dump(key) for key in [*round_keys("tb", ROUND)[:-1], *more]}


@pytest.mark.parametrize("planted, step", [("seen", "join"), ("recent", "admit")])
async def test_a_waiting_line_step_that_would_fail_half_way_changes_nothing(engine, planted, step):
    """join writes the user's place, then when they were seen; an admission writes the admission,
    then the last minute's count: a wrong-typed key for the later write refuses the whole step."""
    gated = RedisEngine(engine._redis, lambda round_id: _gated())
    for user in (1, 2):
        await gated.line.join(ROUND, user, draw=user / 10, address="", address_cap=0)
    key = round_keys("tb", ROUND)[8 + ("order", "place", "head", "admitted", "recent", "seen").index(planted)]
    await engine._redis.delete(key)
    await engine._redis.set(key, "not a " + planted)
    before = await every_key(gated)
    with pytest.raises(ResponseError, match="nothing was changed"):
        if step == "join":
            await gated.line.join(ROUND, 3, draw=0.5, address="", address_cap=0)
        else:
            await gated.line.admit(ROUND, grace_ms=HOUR, now_ms=FUTURE)
    assert await every_key(gated) == before


async def _gated():
    from seatmap.line import Gate, LineRules
    return RoundTruth(gate=Gate(None, LineRules(0, 10, 100, HOUR), 10))
