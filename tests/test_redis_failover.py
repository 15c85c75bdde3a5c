"""Redis unavailable for real (tests/support/cluster.py). A Redis that does not answer gets a prompt
503 in the API's error shape, never a hang or a 500; a sale the database made while Redis took no
writes is still a sale. A real failover, engine by engine: the master that owns a round's slot is
stopped, the cluster promotes its replica, and holds work again within a measured bound, with
nothing the round had lost, and viewers on another instance hear the round again. (The failover
with two server instances in a rush: tests/test_instances.py.)"""
from __future__ import annotations

import asyncio
import time

import pytest

from seatmap.engine import RoundTruth
from seatmap.model import HELD, PENDING, EngineUnavailable
from seatmap.redis_engine import RedisEngine, round_keys
from server.redis_client import ANSWER_WITHIN_SECONDS, open_redis
from tests.support.api import eventually
from tests.support.backends import ON_CLUSTER
from tests.support.cluster import HOLDS_AGAIN_WITHIN_SECONDS
from tests.support.ws import LiveViewer, rest_states

ROUND = 1
HOUR = 3_600_000


async def truth(round_id):
    return RoundTruth()


@pytest.fixture
def settings_overrides(redis_url) -> dict:
    return {"redis_url": redis_url, "seat_repair_seconds": 0.2}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)     # the database is not the point
async def test_while_redis_does_not_answer_the_seat_map_is_503_at_once_and_works_again_after(client, show, redis_stop):
    """Redis stopped (SIGSTOP: it neither answers nor drops the connection). Each call that needs it,
    at once, is answered 503 within the engine's bound, over REST and on the WebSocket."""
    round_id, seats = show["round_id"], show["seat_ids"]
    token = await client.token()
    socket = await LiveViewer.connect(client.http, round_id, token)
    holds = f"/api/rounds/{round_id}/holds"
    assert (await client.post(holds, token=token, json={"seat_ids": seats[:1]})).status == 200
    await redis_stop.stop_owner_of(round_keys("tb", round_id)[0])
    asked = time.monotonic()
    *replies, result = await asyncio.gather(
        client.post(holds, token=token, json={"seat_ids": seats[1:2]}),
        client.delete(holds, token=token, json={"seat_ids": seats[:1]}),
        client.get(f"/api/rounds/{round_id}/seats"),
        client.post("/api/reservations", token=token, json={"round_id": round_id, "seat_ids": seats[:1]}),
        socket.command("hold", seats[2:3]))                  # the socket stays open; its hold is refused
    assert time.monotonic() - asked < ANSWER_WITHIN_SECONDS + 1
    assert [(reply.status, reply.error_code()) for reply in replies] == [(503, "service_unavailable")] * 4
    assert (result["ok"], result["error"]["code"]) == (False, "service_unavailable")

    await redis_stop.resume()
    assert (await socket.command("hold", seats[1:2]))["ok"]
    reserved = await client.post("/api/reservations", token=token, json={"round_id": round_id, "seat_ids": seats[:2]})
    assert reserved.status == 201
    await socket.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sale_the_database_made_is_a_sale_even_when_redis_takes_no_writes_then(client, show, redis_stop):
    """Redis takes no writes (as a master during a manual failover): the reservation finds its hold
    (a read), commits, and its engine call waits in vain. The database has sold the seats, so the
    answer is 201, at once; the map catches up once Redis takes writes again."""
    round_id, seats = show["round_id"], show["seat_ids"]
    token = await client.token()
    assert (await client.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seats[:2]})).status == 200
    async with redis_stop.writes_paused(round_keys("tb", round_id)[0], ANSWER_WITHIN_SECONDS + 3):
        asked = time.monotonic()
        reserved = await client.post("/api/reservations", token=token,
                                     json={"round_id": round_id, "seat_ids": seats[:2]})
        took = time.monotonic() - asked
    assert reserved.status == 201, reserved.json
    assert sorted(reserved.json["seat_ids"]) == sorted(seats[:2])
    assert took < ANSWER_WITHIN_SECONDS + 1

    async def sold() -> bool:
        states = rest_states((await client.get(f"/api/rounds/{round_id}/seats")).json)
        return states[seats[0]] == states[seats[1]] == "sold"
    await eventually(sold, timeout=10)                   # the repair pass told the engine
    other = await client.token()
    retry = await client.post(f"/api/rounds/{round_id}/holds", token=other, json={"seat_ids": seats[:1]})
    assert (retry.status, retry.error_code()) == (409, "seat_unavailable")


def changed(heard: list, seat: int) -> bool:
    return any(delta is not None and any(c.seat_id == seat for c in delta.changes) for delta in heard)


@ON_CLUSTER
async def test_a_stopped_master_fails_over_and_holds_work_again_within_a_bound(redis_url, redis_stop):
    one, other = RedisEngine(await open_redis(redis_url), truth), RedisEngine(await open_redis(redis_url), truth)
    heard: list = []
    try:
        await one.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
        await one.sell(ROUND, 2, [2])
        await other.subscribe(ROUND, heard.append)
        await redis_stop.stop_owner_of(round_keys("tb", ROUND)[0])
        refusals = []                 # how long each hold took to be refused while the master was gone
        while True:
            asked = time.monotonic()
            try:
                await asyncio.wait_for(one.hold(ROUND, 3, [3], ttl_ms=HOUR, limit=8), 10)
                break
            except EngineUnavailable:
                refusals.append(time.monotonic() - asked)
                assert redis_stop.since_stop() < 2 * HOLDS_AGAIN_WITHIN_SECONDS, "holds never worked again"
        took = redis_stop.since_stop()
        print(f"\nholds work again {took:.1f} s after the master of round {ROUND}'s slot stopped; refused "
              f"meanwhile after {', '.join(f'{r:.1f}' for r in refusals)} s")
        assert took < HOLDS_AGAIN_WITHIN_SECONDS
        # Until then a hold was refused, in no more than the engine's bound (the failover takes longer).
        assert refusals and max(refusals) < ANSWER_WITHIN_SECONDS + 1

        # Nothing the round had is lost. (The other instance may not have heard of the failover yet: its
        # first look can be refused in the engine's bound, as a hold was, until its slot map is renewed.)
        snap = await answered_after_refusals(lambda: other.snapshot(ROUND))
        assert {s: (v.state, v.user_id) for s, v in snap.seats.items()} == \
            {1: (HELD, 1), 2: (PENDING, 2), 3: (HELD, 3)}

        # The viewer on the other instance hears the round again: the hold after the failover (its
        # subscription moved to the new master), or word that it may have missed deltas; and then
        # what comes after.
        await eventually(lambda: None in heard or changed(heard, 3), timeout=HOLDS_AGAIN_WITHIN_SECONDS)
        print(f"the viewer on the other instance heard of it {redis_stop.since_stop():.1f} s after the stop")
        # A hold made while the subscription is still moving may be missed; the viewer is then told so
        # (None) and the next one is heard. (Under load the move can finish after the first word.)
        for seat in range(4, 8):
            mark = len(heard)
            await other.hold(ROUND, seat, [seat], ttl_ms=HOUR, limit=8)
            await eventually(lambda: changed(heard[mark:], seat) or None in heard[mark:], timeout=10)
            if changed(heard[mark:], seat):
                break
        else:
            pytest.fail(f"no hold heard after the failover, only word of lost deltas: {heard}")
    finally:
        await one.close()
        await other.close()


async def answered_after_refusals(ask, within: float = HOLDS_AGAIN_WITHIN_SECONDS):
    """`ask()`'s answer once the engine gives one; refusals (EngineUnavailable) until then, for at most
    `within` seconds, each in no more than the engine's bound."""
    deadline = time.monotonic() + within
    while True:
        asked = time.monotonic()
        try:
            return await ask()
        except EngineUnavailable:
            assert time.monotonic() - asked < ANSWER_WITHIN_SECONDS + 1
            assert time.monotonic() < deadline, "no answer after the failover"

