"""Everything that uses Redis, on a real Redis Cluster (3 masters with a replica each, started by the
test backends): the seat engine's deltas across instances over sharded pub/sub, its sweeper finding
the holds of an instance that is gone, the SSE doorbells sharded by user, the rate limits through
the `limits` library's cluster storage, the search cache, and holds through the REST API of two
server instances."""
from __future__ import annotations

import asyncio

import pytest

from seatmap.engine import RoundTruth
from seatmap.model import HELD, Delta
from seatmap.redis_engine import RedisEngine, round_keys
from server.app import create_app
from server.errors import RateLimited
from server.notify.events import SHARDS, RedisBus
from server.ratelimit import LOGIN_PER_ADDRESS, open_rate_limits
from server.redis_client import Client, open_redis
from server.search.cache import RedisStore
from tests.support.api import MANY_ACCOUNTS, ApiClient
from tests.support.backends import backend_url, settings_for
from tests.support.factories import make_round

HOUR = 3_600_000
FUTURE = 10 ** 15          # a clock (ms) at which every hold is due


async def truth(round_id):
    return RoundTruth()


@pytest.fixture
def cluster_url() -> str:
    return backend_url("REDIS_CLUSTER_URL")


@pytest.fixture
async def cluster(cluster_url):
    """A client of the emptied cluster."""
    client = await open_redis(cluster_url)
    await client.flushdb()                  # on every master
    yield client
    await client.aclose()


def rounds_on_every_master(client: Client, per_master: int = 2) -> list[int]:
    """Round ids whose slots lie on each of the cluster's masters, `per_master` of each."""
    found: dict[str, list[int]] = {node.name: [] for node in client.get_primaries()}
    round_id = 0
    while any(len(ids) < per_master for ids in found.values()):
        round_id += 1
        owner = client.get_node_from_key(round_keys("tb", round_id)[0]).name
        if len(found[owner]) < per_master:
            found[owner].append(round_id)
    return sorted(r for ids in found.values() for r in ids)


class Recorder:
    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()

    def __call__(self, delta):
        self.queue.put_nowait(delta)

    async def change(self) -> Delta:
        """The next delta with changes (a round's load announcement has none)."""
        while True:
            delta = await asyncio.wait_for(self.queue.get(), 10)
            if delta is not None and delta.changes:
                return delta


async def test_the_test_cluster_has_three_masters_with_a_replica_each_and_is_ok(cluster):
    info = await cluster.cluster_info()
    assert info["cluster_state"] == "ok" and int(info["cluster_known_nodes"]) == 6
    assert len(cluster.get_primaries()) == 3 and len(cluster.get_replicas()) == 3


async def test_a_delta_made_through_one_engine_reaches_a_listener_of_another(cluster, cluster_url):
    rounds = rounds_on_every_master(cluster)
    one = RedisEngine(await open_redis(cluster_url), truth)
    other = RedisEngine(await open_redis(cluster_url), truth)
    try:
        heard = {round_id: Recorder() for round_id in rounds}
        for round_id, recorder in heard.items():
            await other.subscribe(round_id, recorder)
        for user, round_id in enumerate(rounds, 1):
            await one.hold(round_id, user, [user], ttl_ms=HOUR, limit=8)
        for user, round_id in enumerate(rounds, 1):
            delta = await heard[round_id].change()
            assert (delta.round_id, [(c.seat_id, c.state, c.user_id) for c in delta.changes]) == \
                (round_id, [(user, HELD, user)])
            assert delta.seq == (await other.snapshot(round_id)).seq
    finally:
        await one.close()
        await other.close()


@pytest.fixture(params=["redis", "cluster"])
async def redis_url(request) -> str:
    url = backend_url("REDIS_URL" if request.param == "redis" else "REDIS_CLUSTER_URL")
    client = await open_redis(url)
    await client.flushdb()
    await client.aclose()
    return url


async def test_the_holds_of_an_instance_that_is_gone_are_expired_by_another(redis_url):
    """The sweeper finds rounds it never saw a hold in (their holder's instance is gone) by its
    bounded scan, on every node of a cluster."""
    gone = RedisEngine(await open_redis(redis_url), truth)
    rounds = rounds_on_every_master(gone._redis) if gone._sharded else [1, 2, 3]
    for user, round_id in enumerate(rounds, 1):
        await gone.hold(round_id, user, [user, user + 100], ttl_ms=HOUR, limit=8)
    await gone.close()
    sweeper = RedisEngine(await open_redis(redis_url), truth)
    try:
        expired = await sweeper.expire_due(now_ms=FUTURE)
        assert sorted(expired) == sorted((r, seat, user) for user, r in enumerate(rounds, 1)
                                         for seat in (user, user + 100))
        assert await sweeper.expire_due(now_ms=FUTURE) == []
        for round_id in rounds:
            assert (await sweeper.snapshot(round_id)).seats == {}
    finally:
        await sweeper.close()


async def test_sse_doorbells_reach_every_instance_sharded_by_user(cluster, cluster_url):
    sender = RedisBus(await open_redis(cluster_url))
    receiver = RedisBus(await open_redis(cluster_url))
    await sender.start()
    await receiver.start()
    try:
        users = list(range(1, SHARDS + 1))                         # one user on every shard
        owners = {cluster.get_node_from_key(receiver._shards[u % SHARDS]).name for u in users}
        assert len(owners) == 3                                    # the shards spread over the masters
        subscriptions = {user: receiver.subscribe(user) for user in users}
        for user in users:
            await sender.publish(user, 1000 + user)
        rung = await asyncio.gather(*(s.wait(10) for s in subscriptions.values()))
        assert rung == [True] * len(users)
    finally:
        await sender.close()
        await receiver.close()


async def test_rate_limits_count_once_for_every_instance_on_the_cluster(tmp_path, cluster, cluster_url):
    settings = settings_for(tmp_path, "", redis_url=cluster_url, rate_limit_login_per_address="4/minute")
    async with open_rate_limits(settings) as one, open_rate_limits(settings) as other:
        for limits in (one, other, one, other):
            await limits.hit(LOGIN_PER_ADDRESS, "203.0.113.9")
        with pytest.raises(RateLimited):
            await other.hit(LOGIN_PER_ADDRESS, "203.0.113.9")
        await one.hit(LOGIN_PER_ADDRESS, "203.0.113.10")          # another address has its own count
    assert await cluster.keys("tb:limits*", target_nodes="primaries")


async def test_the_search_cache_on_the_cluster(cluster, cluster_url):
    store = RedisStore(await open_redis(cluster_url, decode_responses=False), "ticketblue:search")
    try:
        await store.set("ticketblue:search:answer:a", b"one", ttl=60)
        assert await store.get("ticketblue:search:answer:a") == b"one"
        token = await store.token("performances")
        assert await store.token("performances") == token
        await store.bump("performances")
        assert await store.token("performances") != token
    finally:
        await store.close()


async def test_two_instances_on_the_cluster_hand_a_seat_to_one_holder(tmp_path, database_url, cluster,
                                                                      cluster_url, aiohttp_client):
    shared = dict(redis_url=cluster_url, **MANY_ACCOUNTS)
    a, b = [ApiClient(await aiohttp_client(create_app(settings_for(tmp_path / n, database_url, **shared))))
            for n in ("a", "b")]
    show = await make_round(a, await a.token(admin=True))
    tokens = [await a.token() for _ in range(6)]
    path, seat = f"/api/rounds/{show['round_id']}/holds", {"seat_ids": [show["seat_ids"][0]]}
    replies = await asyncio.gather(*(client.post(path, token=token, json=seat)
                                     for client, token in zip((a, b) * 3, tokens)))
    assert sorted(r.status for r in replies) == [200] + [409] * 5
    seats_a, seats_b = [await c.get(f"/api/rounds/{show['round_id']}/seats") for c in (a, b)]
    assert seats_a.status == seats_b.status == 200 and seats_a.json == seats_b.json
    assert str(seats_a.json).count("'held'") == 1, seats_a.json
