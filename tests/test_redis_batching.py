"""The seat engine's script calls: those of one turn of the event loop go as one pipeline (on a
cluster, one per hash slot: server/redis_batching.py), and each caller still gets its own answer or error."""
from __future__ import annotations

import asyncio

import pytest
from redis.asyncio.cluster import RedisCluster

from seatmap.model import EngineUnavailable, SeatUnavailable
from seatmap.redis_engine import RedisEngine
from server.redis_client import connect, is_cluster_url, open_redis
from tests.support.backends import empty_redis
from tests.support.engines import HOUR, ROUND

NAME = "batching-test"


@pytest.fixture(params=["redis", "cluster"])
async def url(request) -> str:
    return await empty_redis(request.param)


def named_client(url: str):
    """The server's client of `url`, whose connections Redis lists under NAME."""
    return connect(url, client_name=NAME)


async def connections_named(url: str, name: str) -> int:
    """How many connections of that name the Redis has open; on a cluster, the most any node has
    (the client keeps one to each master it loaded scripts on, besides the round's)."""
    client = await open_redis(url)
    try:
        if is_cluster_url(url):
            by_node = (await client.client_list(target_nodes=RedisCluster.ALL_NODES)).values()
        else:
            by_node = [await client.client_list()]
        return max(sum(1 for c in listed if c.get("name") == name) for listed in by_node)
    finally:
        await client.aclose()


async def test_one_turns_holds_share_one_connection_and_each_gets_its_own_answer(url, truth):
    engine = RedisEngine(named_client(url), truth)
    try:
        async def hold(user_id: int):            # 200 users, two to a seat
            try:
                return user_id, (await engine.hold(ROUND, user_id, [user_id % 100 + 1], ttl_ms=HOUR, limit=8)).seat_ids
            except SeatUnavailable:
                return user_id, ()
        await engine.snapshot(ROUND)             # the round loaded first: its load is not part of the race
        connections = await connections_named(url, NAME)
        results = await asyncio.gather(*(hold(u) for u in range(1, 201)))
        # One call at a time would have taken a connection each (the pool allows 64; a cluster's, 4096).
        # (A cluster client may keep a second connection to the node it first learned the slots from.)
        assert await connections_named(url, NAME) <= max(connections, 2)
        owners = {seat: user for user, seats in results for seat in seats}
        assert len(owners) == 100 and sum(len(seats) for _, seats in results) == 100
        snapshot = await engine.snapshot(ROUND)
        assert {seat: state.user_id for seat, state in snapshot.seats.items()} == owners
    finally:
        await engine.close()


async def test_scripts_redis_lost_are_loaded_again_once_and_their_calls_still_go_together(url, truth):
    engine = RedisEngine(named_client(url), truth)
    try:
        await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
        connections = await connections_named(url, NAME)
        flusher = await open_redis(url)
        try:
            await flusher.script_flush()             # as after a restart of Redis (on a cluster, every master's)
        finally:
            await flusher.aclose()
        granted = await asyncio.gather(*(engine.hold(ROUND, u, [u], ttl_ms=HOUR, limit=8) for u in range(2, 52)))
        assert [g.seat_ids for g in granted] == [(u,) for u in range(2, 52)]
        # Each call loading the script itself would have taken a connection of its own.
        assert await connections_named(url, NAME) <= max(connections, 2)
        assert sorted((await engine.snapshot(ROUND)).seats) == list(range(1, 52))
    finally:
        await engine.close()


async def test_when_redis_cannot_be_reached_every_call_of_the_turn_is_told(truth, unused_tcp_port):
    engine = RedisEngine(connect(f"redis://127.0.0.1:{unused_tcp_port}/0"), truth)
    try:
        results = await asyncio.wait_for(asyncio.gather(
            *(engine.hold(ROUND, u, [u], ttl_ms=HOUR, limit=8) for u in range(1, 11)), return_exceptions=True), 10)
        assert [type(r) for r in results] == [EngineUnavailable] * 10
    finally:
        await engine.close()
