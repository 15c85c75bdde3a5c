"""The seat engine's script calls on a single Redis: those of one turn of the event loop go as one
pipeline (server/redis_batching.py), and each caller still gets its own answer or error."""
from __future__ import annotations

import asyncio

import pytest
import redis.asyncio

from seatmap.model import EngineUnavailable, SeatUnavailable
from seatmap.redis_engine import RedisEngine
from server.redis_client import connect
from tests.support.backends import empty_redis
from tests.support.engines import HOUR, ROUND

NAME = "batching-test"


@pytest.fixture
async def url() -> str:
    return await empty_redis("redis")


async def connections_named(url: str, name: str) -> int:
    async with redis.asyncio.from_url(url) as client:
        return sum(1 for c in await client.client_list() if c.get("name") == name)


async def test_one_turns_holds_share_one_connection_and_each_gets_its_own_answer(url, truth):
    engine = RedisEngine(connect(f"{url}?client_name={NAME}"), truth)
    try:
        async def hold(user_id: int):            # 200 users, two to a seat
            try:
                return user_id, (await engine.hold(ROUND, user_id, [user_id % 100 + 1], ttl_ms=HOUR, limit=8)).seat_ids
            except SeatUnavailable:
                return user_id, ()
        await engine.snapshot(ROUND)             # the round loaded first: its load is not part of the race
        results = await asyncio.gather(*(hold(u) for u in range(1, 201)))
        # One call at a time would have taken a connection each (the pool allows 64).
        assert await connections_named(url, NAME) == 1
        owners = {seat: user for user, seats in results for seat in seats}
        assert len(owners) == 100 and sum(len(seats) for _, seats in results) == 100
        snapshot = await engine.snapshot(ROUND)
        assert {seat: state.user_id for seat, state in snapshot.seats.items()} == owners
    finally:
        await engine.close()


async def test_scripts_redis_lost_are_loaded_again(url, truth):
    engine = RedisEngine(connect(url), truth)
    try:
        await engine.hold(ROUND, 1, [1], ttl_ms=HOUR, limit=8)
        async with redis.asyncio.from_url(url) as client:
            await client.script_flush()              # as after a restart of Redis
        granted = await asyncio.gather(*(engine.hold(ROUND, u, [u], ttl_ms=HOUR, limit=8) for u in range(2, 12)))
        assert [g.seat_ids for g in granted] == [(u,) for u in range(2, 12)]
        assert sorted((await engine.snapshot(ROUND)).seats) == list(range(1, 12))
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
