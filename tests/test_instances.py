"""Two real server processes sharing MariaDB and Redis, as production runs them.

The races here are real: hundreds of users on two instances at once, with Redis flushed, an
instance killed, or the cluster master of the round's slot stopped (a real failover) in the middle.
What must hold afterwards: no seat sold twice, the database and every map agree, every viewer's map
equals the REST snapshot. The seat map's tests run on the single Redis and on the Redis Cluster
(ON_REDIS_AND_CLUSTER), the failover on the cluster; the others on the single Redis.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial

import aiohttp
import pytest
import sqlalchemy as sa

from seatmap.redis_engine import round_keys
from server.db.database import Database
from server.db.tables import reservation_seats
from tests.support.api import ADMIN_KEY, ROUND_CALLS, ApiClient, Reply, eventually
from tests.support.backends import ON_CLUSTER, ON_REDIS_AND_CLUSTER, flush_redis, stored_keys
from tests.support.cluster import HOLDS_AGAIN_WITHIN_SECONDS
from tests.support.factories import make_round
from tests.support.instances import start_instances
from tests.support.ws import LiveViewer, rest_states

USERS = 240
# A request the server has not answered in this long counts as lost (the rush's "lost: TimeoutError").
# While Redis does not answer, each call to it is given up after ANSWER_WITHIN_SECONDS (3 s) with a
# 503; a reservation makes two (is it held, then sell), and under a rush an answer waits its turn.
CLIENT_TIMEOUT_SECONDS = 10
# What a rush sees while the master is gone: every call that needs it is answered 503
# service_unavailable (in the error shape; on the WebSocket in the hold_result), never a 500 or a hang.
# Beside it, a rush's usual answers. A hold lost with the master (one its replica had not received
# yet) is refused when reserved, as after a flush.
ANSWERS_THROUGH_A_FAILOVER = {"hold 200", "hold 409 seat_unavailable", "ws hold ok", "ws hold seat_unavailable",
                              "reserve 201", "reserve 409 seat_unavailable", "release 204",
                              "hold 503 service_unavailable", "ws hold service_unavailable",
                              "reserve 503 service_unavailable", "release 503 service_unavailable"}


@pytest.fixture
async def servers(tmp_path, empty_mysql_url, redis_url):
    started = await start_instances(2, tmp_path, database_url=empty_mysql_url, redis_url=redis_url,
                                    admin_signup_key=ADMIN_KEY, password_hash_time_cost=1,
                                    password_hash_memory_kib=1024, seat_repair_seconds=0.5)
    yield started
    for server in started:
        server.stop()


async def api_clients(servers, **session_options):
    """One API client per instance; index 0 talks to the first, 1 to the second."""
    sessions = [aiohttp.ClientSession(base_url=s.url, connector=aiohttp.TCPConnector(limit=0), **session_options)
                for s in servers]
    yield [ApiClient(s) for s in sessions]
    for s in sessions:
        await s.close()


@pytest.fixture
async def apis(servers):
    async for clients in api_clients(servers):
        yield clients


@pytest.fixture
async def impatient_apis(servers):
    """`apis` whose requests fail when not answered within CLIENT_TIMEOUT_SECONDS (a rush counts them
    lost): for a rush while Redis is away. (Not for signing up hundreds of users: those wait their turn.)"""
    async for clients in api_clients(servers, timeout=aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_SECONDS)):
        yield clients


@pytest.fixture
async def shared_show(apis):
    """The show both instances sell (made through the first)."""
    return await make_round(apis[0], await apis[0].token(admin=True))


@pytest.fixture
async def viewers(apis, shared_show):
    """Two anonymous viewers on each instance."""
    opened = [await LiveViewer.connect(apis[i % 2].http, shared_show["round_id"]) for i in range(4)]
    yield opened
    for viewer in opened:
        await viewer.close()


async def live_seats_in_database(url: str, round_id: int) -> list[int]:
    db = Database(url)
    try:
        async with db.read_own_writes() as conn:
            return list((await conn.execute(sa.select(reservation_seats.c.seat_id).where(
                reservation_seats.c.round_id == round_id, reservation_seats.c.live.is_(True)))).scalars())
    finally:
        await db.close()


async def sign_up_users(apis, count: int) -> list[tuple[ApiClient, str]]:
    """`count` users, alternating between the instances."""
    tokens = await asyncio.gather(*(apis[i % 2].token() for i in range(count)))
    return [(apis[i % 2], token) for i, token in enumerate(tokens)]


def answer_to(what: str, reply: Reply) -> str:
    """How a rush counts a REST answer: "hold 409 seat_unavailable", "reserve 201"."""
    return f"{what} {reply.status} {reply.error_code() or ''}".strip()


async def rest_hold(api: ApiClient, token: str, round_id: int, seat_ids: list[int]) -> tuple[bool, str]:
    """Hold over REST: whether it worked, and the answer as a rush counts it."""
    reply = await api.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seat_ids})
    return reply.status == 200, answer_to("hold", reply)


async def ws_hold(socket: LiveViewer, seat_ids: list[int]) -> tuple[bool, str]:
    """Hold over the seat map's WebSocket, likewise ("ws hold ok", "ws hold seat_unavailable")."""
    result = await socket.command("hold", seat_ids)
    return result["ok"], "ws hold ok" if result["ok"] else f"ws hold {result['error']['code']}"


def refusals(answers: Counter) -> set[str]:
    """The error codes among a rush's answers, REST and WebSocket alike."""
    return {answer.split()[-1] for answer in answers if not answer.endswith(("ok", "200", "201", "204"))}


class Rush:
    """Every user tries three times: hold two of the few seats (over REST or over its own
    WebSocket), then reserve them or let them go. Records every answer."""

    def __init__(self, round_id: int, seat_ids: list[int], on_sale=None):
        self.round_id = round_id
        self.seat_ids = seat_ids
        self.on_sale = on_sale
        self.answers: Counter = Counter()
        self.reservations: list[dict] = []
        self.unexpected: list[tuple] = []

    async def run(self, users: list[tuple[ApiClient, str]]) -> None:
        await asyncio.gather(*(self._user(i, api, token) for i, (api, token) in enumerate(users)))

    async def _user(self, i: int, api: ApiClient, token: str) -> None:
        rng = random.Random(i)
        socket = await LiveViewer.connect(api.http, self.round_id, token) if i % 4 == 3 else None
        try:
            for _ in range(3):
                await self._attempt(rng, api, token, socket)
        except (aiohttp.ClientError, asyncio.TimeoutError, AssertionError) as exc:
            self.answers[f"lost: {type(exc).__name__}"] += 1      # only when an instance is killed
        finally:
            if socket is not None:
                await socket.close()

    async def _attempt(self, rng: random.Random, api: ApiClient, token: str, socket: LiveViewer | None) -> None:
        wanted = rng.sample(self.seat_ids, 2)
        held, answer = await (ws_hold(socket, wanted) if socket is not None else
                              rest_hold(api, token, self.round_id, wanted))
        self.answers[answer] += 1
        if not held:
            return
        if rng.random() < 0.6:
            reply = await api.post("/api/reservations", token=token,
                                   json={"round_id": self.round_id, "seat_ids": wanted})
            self.answers[answer_to("reserve", reply)] += 1
            if reply.status == 201:
                self.reservations.append(reply.json)
                if self.on_sale is not None:
                    await self.on_sale(len(self.reservations))
            else:
                self.unexpected.append((wanted, reply.status, reply.json))
        else:
            reply = await api.delete(f"/api/rounds/{self.round_id}/holds", token=token, json={"seat_ids": wanted})
            self.answers[answer_to("release", reply)] += 1

    def sold_seats(self) -> list[int]:
        return [seat for r in self.reservations for seat in r["seat_ids"]]


async def assert_everyone_agrees(apis, viewers, round_id: int, db_url: str) -> dict[int, str]:
    """REST on every instance, the database and every viewer show the same map."""
    snapshots = [(await api.get(f"/api/rounds/{round_id}/seats")).json for api in apis]
    states = rest_states(snapshots[0])
    assert all(rest_states(s) == states for s in snapshots)
    live = await live_seats_in_database(db_url, round_id)
    assert len(live) == len(set(live))
    assert sorted(s for s, st in states.items() if st == "sold") == sorted(live)
    seq = max(s["seq"] for s in snapshots)
    for viewer in viewers:
        await viewer.until_seq(seq)
        assert viewer.states == states
    return states


async def sold_as_in_the_database(api: ApiClient, round_id: int, live: list[int]) -> dict[int, str]:
    """The REST map once its sold seats are the database's `live` ones (a sale whose engine call
    never arrived is put right by the instances' repair pass)."""
    async def states_once_sold_as_in_the_database() -> dict | None:
        states = rest_states((await api.get(f"/api/rounds/{round_id}/seats")).json)
        return states if sorted(s for s, st in states.items() if st == "sold") == sorted(live) else None
    return await eventually(states_once_sold_as_in_the_database, timeout=15, every=0.1)


async def round_keys_in(redis_url: str, round_id: int) -> list[str]:
    """The round's keys in the Redis (or on every master of the cluster) at `redis_url`."""
    return await stored_keys(redis_url, f"tb:{{r:{round_id}}}:*")


def assert_no_seat_changed_hands_without_being_free(deltas: list[tuple[int, list]]) -> None:
    """Read from a viewer's delta stream: a seat goes held or sold only from available, and a sold
    seat never changes again (nobody cancels here)."""
    state: dict[int, str] = {}
    for _seq, changes in deltas:
        for seat, new in changes:
            old = state.get(seat, "available")
            assert old != "sold", f"seat {seat} changed after it was sold"
            assert new == "available" or old in ("available", "held") and (old, new) != ("held", "held"), \
                f"seat {seat}: {old} -> {new}"
            state[seat] = new


@ON_REDIS_AND_CLUSTER
async def test_a_change_on_one_instance_reaches_viewers_on_both_in_the_same_order(apis, shared_show, viewers,
                                                                                 empty_mysql_url, redis_url):
    one, two = apis
    round_id = shared_show["round_id"]
    s1, s2 = shared_show["seat_ids"][:2]
    first_token, second_token = await one.token(), await two.token()
    second_socket = await LiveViewer.connect(two.http, round_id, second_token)

    assert (await one.post(f"/api/rounds/{round_id}/holds", token=first_token, json={"seat_ids": [s1]})).status == 200
    assert (await second_socket.command("hold", [s2]))["ok"]
    assert (await one.delete(f"/api/rounds/{round_id}/holds", token=first_token, json={"seat_ids": [s1]})).status == 204
    reserved = await two.post("/api/reservations", token=second_token, json={"round_id": round_id, "seat_ids": [s2]})
    assert reserved.status == 201
    await second_socket.close()

    start = viewers[0].deltas[0][0] if viewers[0].deltas else None
    states = await assert_everyone_agrees(apis, viewers, round_id, empty_mysql_url)
    assert states[s2] == "sold" and states[s1] == "available"
    stream = viewers[0].deltas
    assert [changes for _, changes in stream] == [[[s1, "held"]], [[s2, "held"]], [[s1, "available"]], [[s2, "sold"]]]
    assert [seq for seq, _ in stream] == list(range(start, start + 4))
    for viewer in viewers[1:]:
        assert viewer.deltas == stream and viewer.gaps == 0 and viewer.snapshots == 1
    assert await round_keys_in(redis_url, round_id)                # the instances keep the round there


@ON_REDIS_AND_CLUSTER
async def test_hundreds_of_users_on_two_instances_never_share_a_seat(apis, shared_show, viewers, empty_mysql_url,
                                                                     redis_url):
    users = await sign_up_users(apis, USERS)
    rush = Rush(shared_show["round_id"], shared_show["seat_ids"][:6])       # 240 users, 6 seats
    await rush.run(users)

    assert rush.unexpected == []                              # holding the seats, reserving them works
    assert not [a for a in rush.answers if a.startswith(("lost", "hold 5", "reserve 5"))], rush.answers
    assert rush.answers["hold 409 seat_unavailable"] + rush.answers["ws hold seat_unavailable"] > USERS
    sold = rush.sold_seats()
    assert len(sold) == len(set(sold)) and sold                   # nobody got a seat someone else has
    states = await assert_everyone_agrees(apis, viewers, shared_show["round_id"], empty_mysql_url)
    assert sorted(s for s, st in states.items() if st == "sold") == sorted(sold)
    for viewer in viewers:
        assert viewer.gaps == 0 and viewer.deltas == viewers[0].deltas
    assert_no_seat_changed_hands_without_being_free(viewers[0].deltas)
    assert await round_keys_in(redis_url, shared_show["round_id"])


@ON_REDIS_AND_CLUSTER
async def test_redis_flushed_mid_rush_loses_holds_but_never_a_sale(apis, shared_show, viewers, redis_url,
                                                                   empty_mysql_url):
    users = await sign_up_users(apis, USERS)
    flushed_after: list[list[int]] = []

    async def flush_once(sales: int) -> None:
        if sales == 2 and not flushed_after:
            flushed_after.append(rush.sold_seats())
            await flush_redis(redis_url)                           # on a cluster: every master at once

    rush = Rush(shared_show["round_id"], shared_show["seat_ids"][:10], on_sale=flush_once)
    await rush.run(users)

    assert flushed_after, "the rush ended before the flush"
    assert not [a for a in rush.answers if a.startswith(("lost", "hold 5", "reserve 5"))], rush.answers
    # Holds made before the flush are gone: reserving them is refused, never a 500, never a double sale.
    assert all(status == 409 for _, status, _ in rush.unexpected)
    sold = rush.sold_seats()
    assert len(sold) == len(set(sold))
    states = await assert_everyone_agrees(apis, viewers, shared_show["round_id"], empty_mysql_url)
    assert all(states[s] == "sold" for s in flushed_after[0])      # rebuilt from the database
    assert sorted(s for s, st in states.items() if st == "sold") == sorted(sold)
    token = await apis[1].token()
    retry = await apis[1].post(f"/api/rounds/{shared_show['round_id']}/holds", token=token, json={"seat_ids": sold[:1]})
    assert retry.status == 409 and retry.error_code() == "seat_unavailable"
    assert await round_keys_in(redis_url, shared_show["round_id"])     # rebuilt there


@ON_REDIS_AND_CLUSTER
async def test_an_instance_killed_mid_rush_loses_nothing_sold(apis, shared_show, servers, empty_mysql_url):
    users = await sign_up_users(apis, USERS)
    survivor_viewer = await LiveViewer.connect(apis[1].http, shared_show["round_id"])
    killed: list[bool] = []

    async def kill_once(sales: int) -> None:
        if sales == 2 and not killed:
            killed.append(True)
            servers[0].kill()

    rush = Rush(shared_show["round_id"], shared_show["seat_ids"][:10], on_sale=kill_once)
    await rush.run(users)

    assert killed
    assert not [a for a in rush.answers if a.startswith(("hold 5", "reserve 5"))], rush.answers
    survivor = apis[1]
    sold = rush.sold_seats()
    assert len(sold) == len(set(sold)) and sold
    # Every sale that was answered 201, by either instance, is still there.
    live = await live_seats_in_database(empty_mysql_url, shared_show["round_id"])
    assert set(sold) <= set(live)
    # The survivor's map converges on the database (a sale cut off between commit and engine call
    # is repaired by the survivor's background pass) and keeps serving.
    states = await sold_as_in_the_database(survivor, shared_show["round_id"], live)
    await assert_everyone_agrees([survivor], [survivor_viewer], shared_show["round_id"], empty_mysql_url)
    free = [s for s, st in states.items() if st == "available"]
    token = await survivor.token()
    assert (await survivor.post(f"/api/rounds/{shared_show['round_id']}/holds", token=token,
                                json={"seat_ids": free[:1]})).status == 200
    await survivor_viewer.close()


async def first_hold(hold, answers: Counter, since: float) -> float:
    """Try `hold` until it works, counting its answers: how long after `since` (time.monotonic()) it worked."""
    async def held() -> bool:
        worked, answer = await hold()
        answers[answer] += 1
        return worked
    await eventually(held, timeout=2 * HOLDS_AGAIN_WITHIN_SECONDS, every=0.1)
    return time.monotonic() - since


@ON_CLUSTER
async def test_the_master_of_the_rounds_slot_stopped_mid_rush_fails_over_and_nothing_sold_is_lost(
        apis, impatient_apis, shared_show, viewers, empty_mysql_url, redis_url, redis_stop):
    round_id, seats = shared_show["round_id"], shared_show["seat_ids"]
    users = [(impatient_apis[i % 2], token) for i, (_, token) in enumerate(await sign_up_users(apis, USERS))]
    # From the stop on, a user on each instance tries to hold a seat of its own until it works, over
    # REST and over the WebSocket (so that each way is asked while the master is gone).
    probers = [(impatient, await api.token()) for api, impatient in zip(apis, impatient_apis)]
    sockets = [await LiveViewer.connect(api.http, round_id, token) for api, token in probers]
    holds = [partial(rest_hold, api, token, round_id, [seat]) for (api, token), seat in zip(probers, seats[6:8])]
    holds += [partial(ws_hold, socket, [seat]) for socket, seat in zip(sockets, seats[8:10])]
    probes: list[asyncio.Task] = []
    probe_answers: Counter = Counter()

    async def stop_once(sales: int) -> None:
        if sales == 2 and redis_stop.stopped is None:
            await redis_stop.stop_owner_of(round_keys("tb", round_id)[0])
            probes.extend(asyncio.create_task(first_hold(hold, probe_answers, redis_stop.stopped_at))
                          for hold in holds)

    rush = Rush(round_id, seats[:6], on_sale=stop_once)           # 240 users, 6 seats, on both instances
    await rush.run(users)
    assert probes, "the rush ended before the stop"
    rush_went_on = redis_stop.since_stop()
    holds_again = await asyncio.gather(*probes)
    print(f"\nholds work again {min(holds_again):.1f} to {max(holds_again):.1f} s after the master of the "
          f"round's slot stopped; the rush went on {rush_went_on:.1f} s after it")
    assert max(holds_again) < HOLDS_AGAIN_WITHIN_SECONDS

    answers = rush.answers + probe_answers
    print(f"answers: {dict(answers)}")
    assert set(answers) <= ANSWERS_THROUGH_A_FAILOVER, answers        # no 500, nothing lost or hung
    assert refusals(answers) == {"seat_unavailable", "service_unavailable"}
    sold = rush.sold_seats()
    assert len(sold) == len(set(sold)) and sold                       # nobody got a seat someone else has
    live = await live_seats_in_database(empty_mysql_url, round_id)
    assert set(sold) <= set(live)                                     # every sale answered 201 is there
    for api in apis:
        await sold_as_in_the_database(api, round_id, live)
    await assert_everyone_agrees(apis, viewers, round_id, empty_mysql_url)
    print(f"every viewer on both instances equal to the REST snapshot {redis_stop.since_stop():.1f} s after the stop")
    # ...and they hear what comes after as it happens (deltas, not a snapshot taken now and then):
    # their instances listen to the round on the new master.
    heard = [len(viewer.deltas) for viewer in viewers]
    for (api, token), seat in zip(probers, seats[6:8]):
        assert (await api.delete(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": [seat]})).status == 204
    await assert_everyone_agrees(apis, viewers, round_id, empty_mysql_url)
    for viewer, before in zip(viewers, heard):
        changes = [change for _seq, changes in viewer.deltas[before:] for change in changes]
        assert [seats[6], "available"] in changes and [seats[7], "available"] in changes, viewer.deltas[before:]
    for socket in sockets:
        await socket.close()


@ON_REDIS_AND_CLUSTER
async def test_a_round_deleted_on_one_instance_is_gone_at_once_on_both_and_its_viewers_are_closed(
        apis, shared_show, redis_url):
    one, two = apis
    round_id, seats = shared_show["round_id"], shared_show["seat_ids"]
    admin, user = await one.token(admin=True), await two.token()
    path = f"/api/rounds/{round_id}"
    for api in apis:                                             # both instances have its layout cached
        assert (await api.get(f"{path}/seats")).status == 200
    sockets = [await api.http.ws_connect(f"/ws/rounds/{round_id}") for api in apis for _ in range(2)]
    for ws in sockets:
        assert (await ws.receive_json(timeout=10))["type"] == "snapshot"
    assert (await two.post(f"{path}/holds", token=user, json={"seat_ids": seats[:2]})).status == 200
    assert (await two.post(f"{path}/blocks", token=admin, json={"seat_ids": seats[2:3]})).status == 200

    assert (await one.delete(path, token=admin)).status == 204
    for method, what, who in ROUND_CALLS:
        body = {"seat_ids": seats[3:4]} if method != "GET" else None
        token = {"user": user, "admin": admin, None: None}[who]
        for api in (two, one):                                   # two first: the one with a stale layout
            reply = await api.call(method, f"{path}/{what}", token=token, json=body)
            assert (reply.status, reply.error_code()) == (404, "not_found"), (method, what, reply.json)
    for ws in sockets:                                           # two viewers on each instance
        while (frame := await ws.receive_json(timeout=10))["type"] == "delta":
            pass
        assert frame == {"type": "round_deleted", "round_id": round_id}
        closing = await ws.receive(timeout=10)
        assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, 4404)
    # Nothing of the round but its tombstone: seats, counts, history and its hold deadlines are all
    # keys of the round (and its users' recent hold times expire by themselves after the holds' rate
    # window).
    left = [k for k in await round_keys_in(redis_url, round_id) if ":requests:" not in k]
    assert left == [f"tb:{{r:{round_id}}}:gone"]

    starts_at = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0).isoformat()
    new = await two.post(f"/api/performances/{shared_show['performance_id']}/rounds", token=admin,
                         json={"starts_at": starts_at})
    assert new.status == 201 and new.json["id"] > round_id
    reserved = await two.post("/api/reservations", token=user, json={"round_id": new.json["id"], "seat_ids": seats[:2]})
    assert reserved.error_code() == "seat_unavailable"


async def test_a_thousand_users_on_two_instances_get_exactly_a_hundred_coupons(apis, shared_show, empty_mysql_url):
    now = datetime.now(timezone.utc)
    coupon = await apis[0].post("/api/coupons", token=await apis[0].token(admin=True), json={
        "name": "First hundred", "discount_type": "percent", "discount": 10, "quantity": 100,
        "starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()})
    assert coupon.status == 201
    users = await sign_up_users(apis, 1000)
    replies = await asyncio.gather(*(api.post(f"/api/coupons/{coupon.json['id']}/issue", token=token)
                                     for api, token in users))
    outcomes = Counter(r.status if r.status == 201 else r.error_code() for r in replies)
    assert outcomes == {201: 100, "sold_out": 900}
    db = Database(empty_mysql_url)
    try:
        async with db.read_own_writes() as conn:
            holders = (await conn.execute(sa.text("SELECT user_id FROM user_coupons WHERE coupon_id = :c"),
                                          {"c": coupon.json["id"]})).scalars().all()
    finally:
        await db.close()
    assert len(holders) == 100 == len(set(holders))
