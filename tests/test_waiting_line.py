"""The waiting line and the gate, on every seat engine (in process, the single Redis, the Redis
Cluster): the same rules, with the engine's clock given, so that time is the test's."""
from __future__ import annotations

import asyncio
import random

import pytest

from seatmap.engine import RoundTruth
from seatmap.line import (ADMITTED, CLOSED, EXPIRED, FINISHED, NONE, SOLD_OUT, WAITING, AddressFull, Gate, LineRules,
                          NotAdmitted, QueueNotOpen, SaleNotOpen)
from tests.support.engines import HOUR, ROUND

OPENS = 10_000_000_000_000            # ms: the engine's clock is the test's
MINUTE = 60_000
GRACE = 120_000


def rules(max_active=1000, per_minute=1000, session_ms=600_000, prequeue_ms=30 * MINUTE) -> LineRules:
    return LineRules(prequeue_ms, max_active, per_minute, session_ms)


@pytest.fixture
def gated(truth):
    """Round ROUND goes on sale at OPENS with a waiting room of `rules` (10 seats)."""
    def set_rules(line: LineRules | None = rules(), *, seats=10, opens=OPENS):
        truth.rounds[ROUND] = RoundTruth(gate=Gate(opens, line, seats))
    set_rules()
    return set_rules


async def join(engine, user, now=OPENS - MINUTE, **kw):
    options = dict(draw=random.random(), address="", address_cap=0) | kw
    return await engine.line.join(ROUND, user, now_ms=now, **options)


async def admit(engine, now, **kw):
    return await engine.line.admit(ROUND, grace_ms=kw.pop("grace_ms", GRACE), now_ms=now, **kw)


async def test_holds_wait_for_the_opening_and_then_for_an_admission(engine, gated):
    with pytest.raises(SaleNotOpen) as early:
        await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8, now_ms=OPENS - 1)
    assert early.value.opens_ms == OPENS
    for user in (1, 2):
        assert (await join(engine, user, draw=user / 10)).status == WAITING
    with pytest.raises(NotAdmitted) as waiting:
        await engine.hold(ROUND, 2, [1], ttl_ms=HOUR, limit=8, now_ms=OPENS)
    assert waiting.value.position == 2                      # user 1 drew the earlier key
    assert await admit(engine, OPENS, ) == 2
    granted = await engine.hold(ROUND, 2, [1], ttl_ms=HOUR, limit=8, now_ms=OPENS + 1)
    assert granted.seat_ids == (1,)
    with pytest.raises(NotAdmitted) as stranger:
        await engine.hold(ROUND, 3, [2], ttl_ms=HOUR, limit=8, now_ms=OPENS + 1)
    assert stranger.value.position is None                  # never joined


async def test_without_a_waiting_room_everyone_is_admitted_once_the_sale_opens(engine, gated):
    gated(None)
    assert (await join(engine, 1)).status == ADMITTED
    await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8, now_ms=OPENS)
    await engine.set_gate(ROUND, Gate(None, rules(), 10))       # a waiting room from now on
    with pytest.raises(NotAdmitted):
        await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8, now_ms=OPENS)
    await engine.set_gate(ROUND, Gate(OPENS + MINUTE, None, 10))  # the sale moved later
    with pytest.raises(SaleNotOpen):
        await engine.hold(ROUND, 2, [2], ttl_ms=HOUR, limit=8, now_ms=OPENS)


async def test_joining_opens_prequeue_minutes_before_the_sale(engine, gated):
    with pytest.raises(QueueNotOpen) as early:
        await join(engine, 1, now=OPENS - 30 * MINUTE - 1)
    assert early.value.opens_ms == OPENS - 30 * MINUTE
    place = await join(engine, 1, now=OPENS - 30 * MINUTE)
    assert (place.status, place.position, place.opens_ms) == (WAITING, None, OPENS)


async def test_the_prequeue_stands_in_the_order_of_its_draws_and_later_joiners_in_their_order(engine, gated):
    draws = {user: random.random() for user in range(1, 51)}
    for user, draw in draws.items():
        await join(engine, user, draw=draw)
    for user in range(51, 61):
        await join(engine, user, now=OPENS + user)
    order = sorted(draws, key=draws.get) + list(range(51, 61))
    positions = {u: (await engine.line.place(ROUND, u, now_ms=OPENS + 100)).position for u in order}
    assert [positions[u] for u in order] == list(range(1, 61))
    admitted = []
    for step in range(6):
        assert await admit(engine, OPENS + 100 + step, budget=10) == 10
        admitted += [u for u in order if u not in admitted
                     and (await engine.line.place(ROUND, u, now_ms=OPENS + 100 + step)).status == ADMITTED]
    assert admitted == order


async def test_a_rejoin_keeps_the_place_and_a_leave_gives_it_up(engine, gated):
    await join(engine, 1, draw=0.5)
    await join(engine, 2, draw=0.9)
    assert (await join(engine, 2, draw=0.1)).status == WAITING        # the second draw is not taken
    assert (await engine.line.place(ROUND, 2, now_ms=OPENS)).position == 2
    await engine.line.end(ROUND, 1)
    assert (await engine.line.place(ROUND, 1, now_ms=OPENS)).status == NONE
    # Back: at the end. (A position counts the places from the head, the one left among them, until
    # the admission passes it: the serving-counter position, seatmap/line.py.)
    assert (await join(engine, 1, now=OPENS + 1)).position == 3
    assert await admit(engine, OPENS + 2, budget=2) == 1                  # 1's old place is passed over
    assert (await engine.line.place(ROUND, 1, now_ms=OPENS + 2)).position == 1


async def test_admissions_keep_to_max_active_and_the_rate_of_the_last_minute(engine, gated):
    gated(rules(max_active=3, per_minute=5, session_ms=MINUTE))
    for user in range(1, 11):
        await join(engine, user, draw=user / 100)
    assert await admit(engine, OPENS) == 3                    # max_active
    assert await admit(engine, OPENS + 1) == 0
    await engine.line.end(ROUND, 1, FINISHED)                 # paid: the slot is free
    assert (await engine.line.place(ROUND, 1, now_ms=OPENS + 2)).status == CLOSED
    assert await admit(engine, OPENS + 2) == 1
    for user in (2, 3):
        await engine.line.end(ROUND, user)
    assert await admit(engine, OPENS + 3) == 1                # 5 in the last minute
    await engine.line.touch(ROUND, list(range(1, 11)), now_ms=OPENS + MINUTE)          # still there
    assert await admit(engine, OPENS + MINUTE + 1) == 1       # the first three left the window; 3 running
    figures = await engine.line.figures(ROUND, now_ms=OPENS + MINUTE + 1)
    assert (figures.active, figures.admitted_total, figures.admitted_last_minute, figures.waiting) == (3, 6, 3, 4)


async def test_an_admission_runs_for_its_session_and_on_while_the_user_owns_seats(engine, gated):
    gated(rules(max_active=2, session_ms=MINUTE))
    for user in (1, 2, 3):
        await join(engine, user)
    await admit(engine, OPENS)
    first, second = [u for u in (1, 2, 3) if (await engine.line.place(ROUND, u, now_ms=OPENS)).status == ADMITTED]
    await engine.hold(ROUND, first, [1], ttl_ms=HOUR, limit=8, now_ms=OPENS + 1)
    later = OPENS + MINUTE + 1
    await engine.line.touch(ROUND, [1, 2, 3], now_ms=later)
    assert await admit(engine, later) == 1                    # second's admission ended: third goes in
    assert (await engine.line.place(ROUND, second, now_ms=later)).reason == EXPIRED
    with pytest.raises(NotAdmitted):
        await engine.hold(ROUND, second, [2], ttl_ms=HOUR, limit=8, now_ms=later)
    await engine.hold(ROUND, first, [2], ttl_ms=HOUR, limit=8, now_ms=later)    # owns seats: still in
    assert (await engine.line.place(ROUND, first, now_ms=later)).status == ADMITTED


async def test_a_user_not_seen_for_the_grace_period_is_passed_over(engine, gated):
    await join(engine, 1, draw=0.1)
    await join(engine, 2, draw=0.2)
    await engine.line.touch(ROUND, [2], now_ms=OPENS + GRACE)
    assert await admit(engine, OPENS + GRACE) == 1
    assert (await engine.line.place(ROUND, 1, now_ms=OPENS + GRACE)).reason == EXPIRED
    assert (await engine.line.place(ROUND, 2, now_ms=OPENS + GRACE)).status == ADMITTED
    assert (await join(engine, 1, now=OPENS + GRACE + 1)).position == 1      # a new place, at the end


async def test_nobody_is_admitted_to_a_sold_out_round_and_the_line_resumes_when_seats_return(engine, gated):
    gated(rules(max_active=1), seats=2)
    for user in (1, 2, 3):
        await join(engine, user, draw=user / 10)
    assert await admit(engine, OPENS) == 1
    await engine.hold(ROUND, 1, [1, 2], ttl_ms=HOUR, limit=8, now_ms=OPENS)
    await engine.sell(ROUND, 1, [1, 2])
    await engine.line.end(ROUND, 1, FINISHED)
    assert await admit(engine, OPENS + 1) == 0
    place = await engine.line.place(ROUND, 2, now_ms=OPENS + 1)
    assert (place.status, place.reason, place.position) == (CLOSED, SOLD_OUT, 1)
    await engine.free(ROUND, [2])                                     # a reservation ended
    assert (await engine.line.place(ROUND, 2, now_ms=OPENS + 2)).status == WAITING
    assert await admit(engine, OPENS + 2) == 1
    assert (await engine.line.place(ROUND, 2, now_ms=OPENS + 2)).status == ADMITTED


async def test_one_address_has_at_most_its_cap_of_places(engine, gated):
    for user in (1, 2):
        await join(engine, user, address="10.0.0.1", address_cap=2)
    with pytest.raises(AddressFull):
        await join(engine, 3, address="10.0.0.1", address_cap=2)
    assert (await join(engine, 1, address="10.0.0.1", address_cap=2)).status == WAITING    # a rejoin is no new place
    await join(engine, 3, address="10.0.0.2", address_cap=2)
    await engine.line.end(ROUND, 2)
    await join(engine, 4, address="10.0.0.1", address_cap=2)


async def test_two_instances_admitting_at_once_never_pass_the_caps(make_engine, gated):
    gated(rules(max_active=40, per_minute=60))
    engines = [await make_engine(), await make_engine()]
    await asyncio.gather(*(join(engines[u % 2], u) for u in range(1, 301)))
    now, total = OPENS, 0
    for step in range(10):
        total += sum(await asyncio.gather(*(admit(e, now + step, budget=7) for e in engines for _ in range(5))))
        figures = await engines[0].line.figures(ROUND, now_ms=now + step)
        assert figures.active == figures.admitted_last_minute == total <= 40
    figures = await engines[1].line.figures(ROUND, now_ms=now + 10)
    assert figures.active == 40 and figures.admitted_total == 40 and figures.waiting == 260
    admitted = [u for u in range(1, 301) if (await engines[u % 2].line.place(ROUND, u, now_ms=now + 10)).status == ADMITTED]
    assert len(admitted) == 40


async def test_a_join_race_gives_each_user_one_place(make_engine, gated):
    engines = [await make_engine(), await make_engine()]
    await asyncio.gather(*(join(engines[i % 2], user, now=OPENS + i) for i in range(4) for user in range(1, 101)))
    positions = [(await engines[0].line.place(ROUND, u, now_ms=OPENS + 10)).position for u in range(1, 101)]
    assert sorted(positions) == list(range(1, 101))
    assert (await engines[0].line.figures(ROUND, now_ms=OPENS + 10)).waiting == 100


async def test_joining_again_once_the_place_is_over_but_not_yet_swept_takes_a_new_place(engine, gated):
    gated(rules(max_active=1, session_ms=MINUTE))
    for user in (1, 2):
        await join(engine, user, draw=user / 10)
    assert await admit(engine, OPENS) == 1
    later = OPENS + MINUTE + 1                                   # 1's admission ran out; no step since
    again = await join(engine, 1, now=later)
    assert (again.status, again.position) == (WAITING, 2)        # behind 2, as after the sweep


async def test_admissions_are_paced_over_the_minute_across_instances(make_engine, gated):
    """600 a minute with a step every 100 ms: ten a second, whichever instance steps, never the
    minute's allowance at once (a pause saves up at most two steps' worth)."""
    gated(rules(max_active=1000, per_minute=600))
    engines = [await make_engine(), await make_engine()]
    for user in range(1, 101):
        await join(engines[0], user)
    admitted = [await admit(engines[step % 2], OPENS + step * 100, step_ms=100) for step in range(20)]
    assert sum(admitted) == 20 and max(admitted) == 1             # 2 s: 20, one per step
    assert await admit(engines[0], OPENS + 10_000, step_ms=100) == 2    # after a pause: two steps' worth
