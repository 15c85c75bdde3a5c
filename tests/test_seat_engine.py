"""Conformance: the in-process and the Redis engine pass the same tests, unchanged."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

from seatmap.engine import RoundTruth
from seatmap.memory import MemoryEngine
from seatmap.model import HELD, PENDING, SOLD, BLOCKED, HoldLimitExceeded, SeatUnavailable
from seatmap.redis_engine import RedisEngine, connect
from tests.conftest import backend_url

ROUND = 7
HOUR = 3_600_000


class Truth:
    """The database's view of rounds, as the engine's loader sees it."""

    def __init__(self):
        self.rounds: dict[int, RoundTruth] = {}
        self.loads = 0

    async def __call__(self, round_id: int) -> RoundTruth:
        self.loads += 1
        return self.rounds.get(round_id, RoundTruth())


@pytest.fixture
def truth():
    return Truth()


@pytest.fixture(params=["memory", "redis"])
async def make_engine(request, truth):
    """A factory, so a test can have two engines on one store (two server processes)."""
    made = []
    if request.param == "redis":
        async with redis.from_url(backend_url("REDIS_URL")) as client:
            await client.flushdb()

    async def make():
        if request.param == "memory":
            if not made:                          # one process has one in-process engine
                made.append(MemoryEngine(truth))
            return made[0]
        made.append(RedisEngine(connect(backend_url("REDIS_URL")), truth))
        return made[-1]
    yield make
    for engine in made:
        await engine.close()


@pytest.fixture
async def engine(make_engine):
    return await make_engine()


class Recorder:
    """Collects deltas as a viewer would; waits for the event itself, never for time."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()

    def __call__(self, delta):
        self.queue.put_nowait(delta)

    async def next(self):
        return await asyncio.wait_for(self.queue.get(), 5)


async def test_hold_is_all_or_nothing(engine):
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8)
    with pytest.raises(SeatUnavailable) as err:
        await engine.hold(ROUND, 2, [3, 2, 4], ttl_ms=HOUR, limit=8)
    assert err.value.seat_ids == [2]
    snap = await engine.snapshot(ROUND)
    assert {s: (v.state, v.user_id) for s, v in snap.seats.items()} == {1: (HELD, 1), 2: (HELD, 1)}


async def test_holding_your_own_seat_extends_it(engine):
    first = await engine.hold(ROUND, 1, [1], ttl_ms=1000, limit=8, now_ms=10_000)
    again = await engine.hold(ROUND, 1, [1, 2], ttl_ms=1000, limit=8, now_ms=10_500)
    assert again.expires_ms == first.expires_ms + 500
    assert await engine.expire_due(now_ms=11_000) == 0          # the first deadline no longer counts
    assert await engine.expire_due(now_ms=11_500) == 2


async def test_limit_counts_held_and_pending_seats(engine):
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=3)
    await engine.sell(ROUND, 1, [1, 2])
    await engine.hold(ROUND, 1, [3], ttl_ms=HOUR, limit=3)
    await engine.hold(ROUND, 1, [3], ttl_ms=HOUR, limit=3)        # re-holding does not count twice
    with pytest.raises(HoldLimitExceeded) as err:
        await engine.hold(ROUND, 1, [4], ttl_ms=HOUR, limit=3)
    assert err.value.current == 3
    await engine.settle(ROUND, [1, 2])                              # paid seats no longer count
    await engine.hold(ROUND, 1, [4, 5], ttl_ms=HOUR, limit=3)


async def test_release_is_idempotent_and_only_your_own(engine):
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8)
    assert await engine.release(ROUND, 1, [1, 2, 3]) == [1]
    assert await engine.release(ROUND, 1, [1]) == []
    assert set((await engine.snapshot(ROUND)).seats) == {2}


async def test_every_change_is_one_delta_with_seq_plus_one(engine):
    recorder = Recorder()
    await engine.subscribe(ROUND, recorder)
    start = (await engine.snapshot(ROUND)).seq
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8)
    await engine.release(ROUND, 1, [2])
    await engine.release(ROUND, 1, [2])                            # no change: no delta
    await engine.sell(ROUND, 1, [1])
    await engine.block(ROUND, [9])
    await engine.free(ROUND, [1])
    got = [await recorder.next() for _ in range(5)]
    assert [d.seq for d in got] == list(range(start + 1, start + 6))
    assert [[(c.seat_id, c.state, c.user_id) for c in d.changes] for d in got] == [
        [(1, HELD, 1), (2, HELD, 1)], [(2, "available", None)], [(1, PENDING, 1)], [(9, BLOCKED, None)],
        [(1, "available", None)]]
    assert recorder.queue.empty()
    assert (await engine.snapshot(ROUND)).seq == start + 5


async def test_expiry_releases_due_holds_once(make_engine):
    a, b = await make_engine(), await make_engine()
    recorder = Recorder()
    await a.subscribe(ROUND, recorder)
    await a.hold(ROUND, 1, [1, 2], ttl_ms=1000, limit=8, now_ms=0)
    await a.hold(ROUND, 2, [3], ttl_ms=5000, limit=8, now_ms=0)
    hold = await recorder.next()
    await recorder.next()
    expired = await asyncio.gather(a.expire_due(now_ms=2000), b.expire_due(now_ms=2000))
    assert sum(expired) == 2                                        # two sweepers, each hold once
    delta = await recorder.next()
    assert delta.seq == hold.seq + 2 and {c.seat_id for c in delta.changes} == {1, 2}
    assert set((await a.snapshot(ROUND)).seats) == {3}


async def test_sell_takes_the_seat_whatever_the_engine_had(engine):
    await engine.hold(ROUND, 2, [1], ttl_ms=HOUR, limit=8)         # e.g. re-held after a lost Redis
    await engine.sell(ROUND, 1, [1])
    snap = await engine.snapshot(ROUND)
    assert (snap.seats[1].state, snap.seats[1].user_id) == (PENDING, 1)
    await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=1)           # user 2 no longer owns seat 1


async def test_sold_seats_cannot_be_blocked_but_held_ones_can(engine):
    await engine.sell(ROUND, 1, [1])
    await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8)
    with pytest.raises(SeatUnavailable) as err:
        await engine.block(ROUND, [1, 2])
    assert err.value.seat_ids == [1]
    await engine.block(ROUND, [2, 3])
    assert {s: v.state for s, v in (await engine.snapshot(ROUND)).seats.items()} == {1: PENDING, 2: BLOCKED, 3: BLOCKED}
    await engine.unblock(ROUND, [2, 3])
    await engine.hold(ROUND, 2, [3], ttl_ms=HOUR, limit=1)          # the blocked hold no longer counts


async def test_round_is_loaded_from_the_database_truth(engine, truth):
    truth.rounds[ROUND] = RoundTruth(pending={1: 5}, sold=[2], blocked=[3])
    snap = await engine.snapshot(ROUND)
    assert {s: (v.state, v.user_id) for s, v in snap.seats.items()} == {1: (PENDING, 5), 2: (SOLD, None),
                                                                        3: (BLOCKED, None)}
    with pytest.raises(SeatUnavailable):
        await engine.hold(ROUND, 9, [1, 2, 3, 4], ttl_ms=HOUR, limit=8)
    with pytest.raises(HoldLimitExceeded):
        await engine.hold(ROUND, 5, [4], ttl_ms=HOUR, limit=1)        # the pending seat counts


async def test_a_lost_round_is_rebuilt_and_seq_keeps_growing(engine, truth):
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    await engine.sell(ROUND, 1, [1])
    truth.rounds[ROUND] = RoundTruth(pending={1: 1})
    before = (await engine.snapshot(ROUND)).seq
    await engine.forget(ROUND)                                        # what a flushed Redis looks like
    with pytest.raises(SeatUnavailable):
        await engine.hold(ROUND, 2, [1], ttl_ms=HOUR, limit=8)
    assert (await engine.snapshot(ROUND)).seq > before


async def test_deltas_after_replays_or_asks_for_a_snapshot(engine):
    start = (await engine.snapshot(ROUND)).seq
    for seat in range(1, 6):
        await engine.hold(ROUND, 1, [seat], ttl_ms=HOUR, limit=8)
    replay = await engine.deltas_after(ROUND, start + 2)
    assert [d.seq for d in replay] == [start + 3, start + 4, start + 5]
    assert [d.changes[0].seat_id for d in replay] == [3, 4, 5]
    assert await engine.deltas_after(ROUND, start + 5) == []
    assert await engine.deltas_after(ROUND, start + 99) is None        # from the future
    assert await engine.deltas_after(ROUND, start - 50) is None        # before the kept history


async def test_history_is_capped(engine):
    from seatmap.engine import HISTORY
    start = (await engine.snapshot(ROUND)).seq
    for i in range(HISTORY + 5):
        await engine.hold(ROUND, 1, [1], ttl_ms=HOUR + i, limit=8)
    assert await engine.deltas_after(ROUND, start) is None
    kept = await engine.deltas_after(ROUND, start + 5)
    assert len(kept) == HISTORY and kept[-1].seq == start + HISTORY + 5


async def test_racing_users_never_share_a_seat(make_engine):
    engines = [await make_engine(), await make_engine()]           # two processes on one store
    seats = list(range(1, 11))

    async def user(user_id: int):
        engine = engines[user_id % 2]
        wanted = [seats[user_id % 10], seats[(user_id * 7) % 10]]
        try:
            granted = await engine.hold(ROUND, user_id, wanted, ttl_ms=HOUR, limit=8)
            return user_id, list(granted.seat_ids)
        except SeatUnavailable:
            return user_id, []

    results = await asyncio.gather(*(user(u) for u in range(1, 301)))
    owners: dict[int, int] = {}
    for user_id, got in results:
        for seat in got:
            assert seat not in owners, f"seat {seat} held by {owners[seat]} and {user_id}"
            owners[seat] = user_id
    snap = await engines[0].snapshot(ROUND)
    assert {s: v.user_id for s, v in snap.seats.items()} == owners
    assert len(owners) >= 5                                         # the race did hand seats out
