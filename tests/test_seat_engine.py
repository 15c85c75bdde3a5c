"""Conformance: the in-process engine and the Redis engine, on the single Redis and on the Redis Cluster,
pass the same tests, unchanged."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from seatmap.engine import RoundTruth
from server.redis_client import connect
from seatmap.redis_engine import RedisEngine
from seatmap.model import (HELD, PENDING, SOLD, BLOCKED, HoldLimitExceeded, HoldTimeExceeded, NoSuchRound,
                           RoundDeleted, SeatUnavailable)
from tests.support.backends import backend_url
from tests.support.engines import HOUR, ROUND, round_state_left, tombstone_only


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
    assert await engine.expire_due(now_ms=11_000) == []         # the first deadline no longer counts
    assert len(await engine.expire_due(now_ms=11_500)) == 2


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
    loaded = await recorder.next()                                 # the load announces itself
    assert (loaded.seq, loaded.changes) == (start, ())
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
    assert (await recorder.next()).changes == ()                   # loaded
    hold = await recorder.next()
    await recorder.next()
    expired = await asyncio.gather(a.expire_due(now_ms=2000), b.expire_due(now_ms=2000))
    assert sorted(expired[0] + expired[1]) == [(ROUND, 1, 1), (ROUND, 2, 1)]   # two sweepers, each hold once
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
    recorder = Recorder()
    await engine.subscribe(ROUND, recorder)
    await engine.forget(ROUND)                                        # what a flushed Redis looks like
    with pytest.raises(SeatUnavailable):
        await engine.hold(ROUND, 2, [1], ttl_ms=HOUR, limit=8)
    rebuilt = await recorder.next()                                   # subscribers are told: resync
    assert rebuilt.changes == () and rebuilt.seq > before + 1
    assert (await engine.snapshot(ROUND)).seq == rebuilt.seq


async def test_repair_brings_sold_pending_and_blocked_seats_in_line_with_the_database(engine, truth):
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8)   # seat 1: its sell never arrived (crash)
    await engine.hold(ROUND, 3, [4], ttl_ms=HOUR, limit=8)      # an ordinary hold: kept
    await engine.sell(ROUND, 2, [3])                            # seat 3: its free never arrived
    seen = (await engine.snapshot(ROUND)).seq
    recorder = Recorder()
    await engine.subscribe(ROUND, recorder)
    assert await engine.repair(ROUND, RoundTruth(pending={1: 1}, sold=[5], blocked=[6]), seen)
    delta = await recorder.next()
    assert delta.seq == seen + 1
    assert sorted((c.seat_id, c.state) for c in delta.changes) == [
        (1, PENDING), (3, "available"), (5, SOLD), (6, BLOCKED)]
    snap = await engine.snapshot(ROUND)
    assert {s: (v.state, v.user_id) for s, v in snap.seats.items()} == {
        1: (PENDING, 1), 2: (HELD, 1), 4: (HELD, 3), 5: (SOLD, None), 6: (BLOCKED, None)}
    await engine.hold(ROUND, 2, [7], ttl_ms=HOUR, limit=1)      # user 2 no longer counts seat 3
    with pytest.raises(HoldLimitExceeded):
        await engine.hold(ROUND, 1, [8], ttl_ms=HOUR, limit=2)  # user 1: seat 2 held + seat 1 pending


async def test_repair_is_refused_when_the_round_changed_since_it_looked(engine):
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    seen = (await engine.snapshot(ROUND)).seq
    await engine.sell(ROUND, 1, [1])                            # the late call arrives first
    assert not await engine.repair(ROUND, RoundTruth(), seen)   # from a stale read: must not free seat 1
    assert (await engine.snapshot(ROUND)).seats[1].state == PENDING


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


async def test_deployments_on_two_redis_databases_never_hear_each_other(truth):
    """Pub/sub channels are global to a Redis server; keys are per database. Engines on db 1 and
    db 2 use the same round id: each hears only its own deltas. (The single Redis only: a cluster has
    no database but 0, so two deployments cannot share one this way.)"""
    base = backend_url("REDIS_URL").rsplit("/", 1)[0]
    engines, heard = [], []
    for db in (1, 2):
        async with redis.asyncio.from_url(f"{base}/{db}") as client:
            await client.flushdb()
        engine = RedisEngine(connect(f"{base}/{db}"), truth)
        recorder = Recorder()
        await engine.subscribe(ROUND, recorder)
        engines.append(engine)
        heard.append(recorder)
    try:
        await engines[0].hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
        await engines[1].hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8)
        for engine, recorder, (seat, user) in zip(engines, heard, ((1, 1), (2, 2))):
            while not (delta := await recorder.next()).changes:
                pass                                      # the round's load announcement
            # The first change each hears is its own: the other's, published earlier, never came.
            assert [(c.seat_id, c.user_id) for c in delta.changes] == [(seat, user)]
    finally:
        for engine in engines:
            await engine.close()


# ---- deleted rounds ---------------------------------------------------------------------------------
async def test_a_round_the_database_does_not_have_is_refused(engine, truth):
    truth.missing.add(ROUND)
    with pytest.raises(NoSuchRound):
        await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
    with pytest.raises(NoSuchRound):
        await engine.snapshot(ROUND)
    assert await round_state_left(engine, ROUND) == []


async def test_a_dropped_round_is_forgotten_refused_everywhere_and_its_subscribers_told(make_engine, truth):
    a, b = await make_engine(), await make_engine()             # two processes on one store
    await a.hold(ROUND, 1, [1, 2], ttl_ms=1000, limit=8, now_ms=0)
    await a.block(ROUND, [3])
    await b.snapshot(ROUND)                                     # b has met the round too
    heard_a, heard_b = Recorder(), Recorder()
    await a.subscribe(ROUND, heard_a)
    await b.subscribe(ROUND, heard_b)
    truth.missing.add(ROUND)                                    # the database deleted it, then:
    await a.drop(ROUND)
    for heard in (heard_a, heard_b):
        assert await heard.next() == RoundDeleted(ROUND)
    for engine in (a, b):
        for call in (engine.snapshot(ROUND), engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8),
                     engine.release(ROUND, 1, [1]), engine.block(ROUND, [4]), engine.unblock(ROUND, [3])):
            with pytest.raises(NoSuchRound):
                await call
    assert await a.expire_due(now_ms=HOUR) == []                # its holds are gone, not merely unreachable
    assert await round_state_left(a, ROUND) == tombstone_only(a, ROUND)


async def test_a_load_that_read_the_database_before_the_drop_does_not_bring_the_round_back(make_engine, truth):
    loader, dropper = await make_engine(), await make_engine()
    truth.pause = asyncio.Event()
    loading = asyncio.ensure_future(loader.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8))
    await truth.read.wait()                                     # it has read the round, before the deletion
    truth.missing.add(ROUND)
    await dropper.drop(ROUND)
    truth.pause.set()
    with pytest.raises(NoSuchRound):
        await loading
    with pytest.raises(NoSuchRound):
        await loader.snapshot(ROUND)
    assert await round_state_left(loader, ROUND) == tombstone_only(loader, ROUND)


# ---- the hold cap -------------------------------------------------------------------------------------
TTL, CAP, COOLDOWN = 1000, 2500, 1000


async def hold(engine, user: int, seats: list[int], at: int):
    return await engine.hold(ROUND, user, seats, ttl_ms=TTL, limit=8, max_hold_ms=CAP, cooldown_ms=COOLDOWN,
                             now_ms=at)


async def test_re_holding_extends_a_hold_no_further_than_the_cap(engine):
    assert (await hold(engine, 1, [1], at=0)).expires_ms == 1000
    assert (await hold(engine, 1, [1], at=900)).expires_ms == 1900
    assert (await hold(engine, 1, [1], at=1800)).expires_ms == CAP          # not 2800
    with pytest.raises(HoldTimeExceeded) as err:
        await hold(engine, 1, [1], at=CAP)
    assert (err.value.seat_ids, err.value.retry_after_ms) == ([1], COOLDOWN)
    snap = await engine.snapshot(ROUND)
    assert (snap.seats[1].user_id, snap.seats[1].expires_ms) == (1, CAP)


async def test_the_sweeper_releases_the_seat_at_the_cap(engine):
    for at in (0, 900, 1800):
        await hold(engine, 1, [1], at=at)
    assert await engine.expire_due(now_ms=CAP - 1) == []
    assert await engine.expire_due(now_ms=CAP) == [(ROUND, 1, 1)]
    assert (await engine.snapshot(ROUND)).seats == {}


async def test_the_same_user_is_refused_until_the_cooldown_ends_while_others_may_take_it(make_engine):
    engine = await make_engine()
    for at in (0, 900, 1800):
        await hold(engine, 1, [1, 2], at=at)
    await engine.expire_due(now_ms=CAP)
    with pytest.raises(HoldTimeExceeded) as err:
        await hold(engine, 1, [3, 1], at=CAP + 400)
    assert (err.value.seat_ids, err.value.retry_after_ms) == ([1], COOLDOWN - 400)
    assert (await engine.snapshot(ROUND)).seats == {}                        # all or nothing: seat 3 too
    granted = await hold(engine, 2, [2], at=CAP + 400)                       # another user may
    assert granted.expires_ms == CAP + 400 + TTL
    fresh = await hold(engine, 1, [1], at=CAP + COOLDOWN)                    # the cooldown is over
    assert fresh.expires_ms == CAP + COOLDOWN + TTL
    other = await make_engine()                                              # (every process agrees)
    with pytest.raises(HoldTimeExceeded):
        await other.hold(ROUND, 1, [1], ttl_ms=TTL, limit=8, max_hold_ms=CAP, cooldown_ms=COOLDOWN,
                         now_ms=CAP + COOLDOWN + CAP)


async def test_releasing_and_holding_again_does_not_restart_the_clock(engine):
    await hold(engine, 1, [1], at=0)
    assert await engine.release(ROUND, 1, [1], now_ms=900) == [1]
    assert (await hold(engine, 1, [1], at=1000)).expires_ms == 2000         # carries on from 0
    await engine.release(ROUND, 1, [1], now_ms=1900)
    assert (await hold(engine, 1, [1, 2], at=2000)).expires_ms == CAP       # the earliest of the seats
    assert (await engine.snapshot(ROUND)).seats[2].expires_ms == 3000       # seat 2's hold began at 2000
    await engine.release(ROUND, 1, [1, 2], now_ms=2400)
    with pytest.raises(HoldTimeExceeded) as err:
        await hold(engine, 1, [1], at=2500)
    assert err.value.retry_after_ms == 2400 + COOLDOWN - 2500
    await engine.release(ROUND, 1, [1], now_ms=3000)                        # not held: nothing changes
    assert (await hold(engine, 1, [1], at=2400 + COOLDOWN)).expires_ms == 2400 + COOLDOWN + TTL


async def test_a_release_long_enough_ago_starts_a_new_hold(engine):
    await hold(engine, 1, [1], at=0)
    await engine.release(ROUND, 1, [1], now_ms=500)
    assert (await hold(engine, 1, [1], at=500 + COOLDOWN)).expires_ms == 500 + COOLDOWN + TTL
