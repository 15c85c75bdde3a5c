"""The waiting room under real races: 1,000 users join before the opening and 200 after, on the
in-process engine (one server) and on two server processes sharing MariaDB and Redis (single and
Cluster). The pre-queue's order is random and does not follow join order, later joiners follow in
join order, a rejoin on the other instance keeps the place, admission follows the order and never
passes `max_active` (sampled all along) and comes paced by `admit_per_minute`, and a Redis that lost everything keeps
what the documentation says it keeps."""
from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from tests.support.api import ApiClient, eventually
from tests.support.backends import ON_REDIS_AND_CLUSTER, flush_redis
from tests.support.factories import make_round
from tests.support.instances import instance_clients
from tests.support.waiting import place_of, set_room, set_sale

BEFORE, AFTER, WAVES = 1000, 200, 10
MAX_ACTIVE, PER_MINUTE = 50, 600


@pytest.fixture
async def two_instances(tmp_path, empty_mysql_url, redis_url):
    async with instance_clients(2, tmp_path, database_url=empty_mysql_url, redis_url=redis_url,
                                waiting_room_step_seconds=0.05) as clients:
        yield clients


@pytest.fixture
def settings_overrides():
    return {"waiting_room_step_seconds": 0.05}


async def tokens_on(apis: list[ApiClient], count: int) -> list[tuple[ApiClient, str]]:
    """`count` users, alternating between the instances."""
    tokens = await asyncio.gather(*(apis[i % len(apis)].token() for i in range(count)))
    return [(apis[i % len(apis)], token) for i, token in enumerate(tokens)]


def order_of(places: list[dict]) -> list[int]:
    """The users' indexes in line order: the admitted ones first (their positions are gone), then by position."""
    return sorted(range(len(places)), key=lambda i: -1 if places[i]["status"] == "admitted" else places[i]["position"])


async def places_of(users, round_id) -> list[dict]:
    return await asyncio.gather(*(place_of(api, round_id, token) for api, token in users))


async def the_opening_rush(apis: list[ApiClient]) -> None:
    admin_api = apis[0]
    admin = await admin_api.token(admin=True)
    show = await make_round(admin_api, admin)
    round_id = show["round_id"]
    await set_room(admin_api, admin, round_id, max_active=1, admit_per_minute=100_000)
    await set_sale(admin_api, admin, round_id, 3600)
    users = await tokens_on(apis, BEFORE + AFTER)

    # The pre-queue: ten waves of a hundred joins at once each, from both instances.
    wave_size = BEFORE // WAVES
    for wave in range(WAVES):
        joined = await asyncio.gather(*(api.post(f"/api/rounds/{round_id}/queue", token=token)
                                        for api, token in users[wave * wave_size:(wave + 1) * wave_size]))
        assert all(r.status == 200 and r.json["status"] == "waiting" and r.json["position"] is None for r in joined)
    await set_sale(admin_api, admin, round_id, 0)                     # the opening
    for i, (api, token) in enumerate(users[BEFORE:]):                 # later joiners, one after another
        reply = await api.post(f"/api/rounds/{round_id}/queue", token=token)
        assert reply.status == 200 and reply.json["status"] == "waiting", reply.json

    async def one_admitted():
        return sum(p["status"] == "admitted" for p in await places_of(users[:BEFORE], round_id)) == 1
    await eventually(one_admitted, every=0.2)
    places = await places_of(users, round_id)
    order = order_of(places)
    assert [places[i]["position"] for i in order[1:]] == list(range(1, BEFORE + AFTER))
    assert sorted(order[:BEFORE]) == list(range(BEFORE))              # the pre-queue first...
    assert order[BEFORE:] == list(range(BEFORE, BEFORE + AFTER))      # ...then later joiners in join order
    waves = [i // wave_size for i in order[:BEFORE]]
    correlation = statistics.correlation(waves, range(BEFORE))        # ~1 if it were first come first served
    assert abs(correlation) < 0.15, correlation
    assert sum(w == 0 for w in waves[:wave_size]) < wave_size // 2     # the first wave is not at the front

    # A rejoin, on the other instance (another tab, device), keeps the place.
    sample = order[1:BEFORE:40] + order[BEFORE::20]
    rejoined = await asyncio.gather(*(apis[(apis.index(users[i][0]) + 1) % len(apis)].post(
        f"/api/rounds/{round_id}/queue", token=users[i][1]) for i in sample))
    assert [r.json["position"] for r in rejoined] == [places[i]["position"] for i in sample]

    # Admission in line order, never past max_active (sampled all along), and paced by the rate.
    await set_room(admin_api, admin, round_id, max_active=MAX_ACTIVE, admit_per_minute=60_000)
    samples: list[tuple[float, dict]] = []
    done = asyncio.Event()

    async def sample_figures():
        n = 0
        while not done.is_set():
            n += 1
            figures = (await apis[n % len(apis)].get(f"/api/rounds/{round_id}/waiting-room", token=admin)).json
            samples.append((time.monotonic(), figures))

    async def admitted_now() -> list[int]:
        return [i for i, p in zip(order, await places_of([users[i] for i in order], round_id))
                if p["status"] == "admitted"]

    sampler = asyncio.create_task(sample_figures())
    await eventually(lambda: samples and samples[-1][1]["active"] == MAX_ACTIVE, every=0.05)
    first = await admitted_now()
    assert first == order[:MAX_ACTIVE]                               # exactly the head of the line
    # Room for everyone, at 600 a minute: the admissions come paced, in line order. (The samples
    # before this line were all taken under max_active 50: the sampler runs on during the PUT.)
    paced_from = len(samples)
    await set_room(admin_api, admin, round_id, max_active=10_000, admit_per_minute=PER_MINUTE)
    await eventually(lambda: samples[-1][1]["admitted_total"] >= MAX_ACTIVE + 20, every=0.05)
    done.set()
    await sampler
    assert max(f["active"] for _, f in samples[:paced_from]) <= MAX_ACTIVE
    assert max(f["admitted_last_minute"] for _, f in samples) <= 60_000
    (t0, start), (t1, end) = samples[paced_from], samples[-1]
    per_second = PER_MINUTE / 60
    # (the credit a step may carry: two steps' worth, at least one admission, on each side)
    assert end["admitted_total"] - start["admitted_total"] <= per_second * (t1 - t0) + 4
    await set_room(admin_api, admin, round_id, max_active=1, admit_per_minute=PER_MINUTE)   # (no more: read them)
    later = await admitted_now()
    assert len(later) > MAX_ACTIVE and later == order[:len(later)]    # still in line order


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_opening_rush_on_the_in_process_engine(client):
    await the_opening_rush([client])


@ON_REDIS_AND_CLUSTER
async def test_the_opening_rush_on_two_instances(two_instances):
    await the_opening_rush(two_instances)


@ON_REDIS_AND_CLUSTER
async def test_a_redis_that_lost_everything_keeps_the_rules_the_sales_and_the_prequeue_order(two_instances, redis_url):
    apis = two_instances
    admin = await apis[0].token(admin=True)
    show = await make_round(apis[0], admin)
    round_id, seats = show["round_id"], show["seat_ids"]
    buyer = await apis[0].token()
    sold = await apis[0].post(f"/api/rounds/{round_id}/holds", token=buyer, json={"seat_ids": seats[:1]})
    assert sold.status == 200
    assert (await apis[0].post("/api/reservations", token=buyer, json={"round_id": round_id, "seat_ids": seats[:1]})
            ).status == 201
    await set_room(apis[0], admin, round_id, max_active=1)
    await set_sale(apis[0], admin, round_id, 3600)
    users = await tokens_on(apis, 40)
    for api, token in users:
        assert (await api.post(f"/api/rounds/{round_id}/queue", token=token)).status == 200

    async def order_at_the_opening() -> list[int]:
        await set_sale(apis[0], admin, round_id, 0)
        async def one_admitted():
            return sum(p["status"] == "admitted" for p in await places_of(users, round_id)) == 1
        await eventually(one_admitted, every=0.1)
        order = order_of(await places_of(users, round_id))
        await set_sale(apis[0], admin, round_id, 3600)                   # the sale is moved back
        return order
    before = await order_at_the_opening()

    await flush_redis(redis_url)                                      # every key gone, on every master
    assert {(await place_of(api, round_id, token))["status"] for api, token in users} == {"none"}
    for api, token in users:                                          # the gate came back from the database
        refused = await api.post(f"/api/rounds/{round_id}/holds", token=token, json={"seat_ids": seats[1:2]})
        assert (refused.status, refused.error_code()) == (409, "sale_not_open")
    for api, token in reversed(users):                                # they join again, in another order
        assert (await apis[(apis.index(api) + 1) % 2].post(f"/api/rounds/{round_id}/queue", token=token)).status == 200
    assert await order_at_the_opening() == before                     # the same draw, the same order
    await set_sale(apis[0], admin, round_id, 0)
    outsider = next(token for i, (_, token) in enumerate(users) if i != before[0])
    refused = await apis[1].post(f"/api/rounds/{round_id}/holds", token=outsider, json={"seat_ids": seats[1:2]})
    assert (refused.status, refused.error_code()) == (403, "not_admitted")
    states = {s["id"]: s["status"] for s in (await apis[1].get(f"/api/rounds/{round_id}/seats")).json["seats"]}
    assert states[seats[0]] == "sold"                                 # the sale is the database's
    room = (await apis[1].get(f"/api/rounds/{round_id}/waiting-room", token=admin)).json
    assert (room["enabled"], room["max_active"]) == (True, 1)
