"""Seat engines without the web application: the database's view of rounds that their loader reads,
and what an engine keeps of a round."""
from __future__ import annotations

import asyncio

from seatmap.engine import RoundTruth
from seatmap.memory import MemoryEngine
from tests.support.backends import keys_matching

ROUND = 7
HOUR = 3_600_000


class Truth:
    """The database's view of rounds, as the engine's loader sees it. Every round exists, but those
    in `missing`; with `pause` set, a load waits for it after reading (a slow database), and `read`
    says a load has read."""

    def __init__(self):
        self.rounds: dict[int, RoundTruth] = {}
        self.missing: set[int] = set()
        self.loads = 0
        self.pause: asyncio.Event | None = None
        self.read = asyncio.Event()

    async def __call__(self, round_id: int) -> RoundTruth | None:
        self.loads += 1
        found = None if round_id in self.missing else self.rounds.get(round_id, RoundTruth())
        self.read.set()
        if self.pause is not None:
            await self.pause.wait()
        return found


async def round_state_left(engine, round_id: int) -> list:
    """What an engine still keeps of a round: its Redis keys, or the in-process engine's entries. (Not
    its users' recent request times, which expire by themselves after the longest rate window.)"""
    if isinstance(engine, MemoryEngine):
        return [name for name in ("_rounds", "_loading", "_forgotten_seq") if round_id in getattr(engine, name)]
    keys = await keys_matching(engine._redis, f"tb:{{r:{round_id}}}:*")
    for key in [k for k in keys if ":requests:" in k]:
        assert 0 < await engine._redis.pttl(key) <= HOUR
        keys.remove(key)
    return keys


def tombstone_only(engine, round_id: int) -> list:
    """What an engine may keep of a deleted round: nothing in process; in Redis, its tombstone."""
    return [] if isinstance(engine, MemoryEngine) else [f"tb:{{r:{round_id}}}:gone"]
