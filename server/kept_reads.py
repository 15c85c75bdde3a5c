"""Values read (from the database) and kept per key for a while, one read at a time per key.

In a rush hundreds of requests want the same thing at once (an account's token version, a round's
layout, who watches a round's seats) just as its kept copy runs out: they share the one read under
way instead of each making its own, which would take a pool connection apiece. `forget` is for the
instance that changed the thing: the next ask reads it again, and a read already under way (which
may have read it before the change) neither answers that ask nor is kept.
"""
from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Awaitable, Callable, Generic, Hashable, TypeVar

from server.request_ids import shared_task

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeptReads(Generic[K, V]):
    def __init__(self, read: Callable[[K], Awaitable[V]], *, ttl_seconds: float, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self._read = read
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._clock = clock
        self._kept: dict[K, tuple[float, V]] = {}          # key -> (when its read began, the value)
        self._reading: dict[K, asyncio.Future[tuple[float, V]]] = {}

    async def get(self, key: K) -> V:
        """The kept value if younger than the TTL (counted from when its read began), else a fresh read:
        the one under way, if any. A read that fails is not kept; its callers get its exception.
        A caller that is cancelled does not cancel the read the others wait for."""
        kept = self._kept.get(key)
        if kept is not None and self._clock() - kept[0] < self._ttl:
            return kept[1]
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = shared_task(self._timed_read(key))
            reading.add_done_callback(partial(self._keep, key))
        return (await asyncio.shield(reading))[1]

    def forget(self, key: K) -> None:
        self._kept.pop(key, None)
        self._reading.pop(key, None)

    async def _timed_read(self, key: K) -> tuple[float, V]:
        began = self._clock()
        return began, await self._read(key)

    def _keep(self, key: K, reading: asyncio.Future) -> None:
        if self._reading.get(key) is not reading:
            return                                       # forgotten meanwhile: its value may be older
        del self._reading[key]
        if reading.cancelled() or reading.exception() is not None:
            return
        self._kept.pop(key, None)                        # (kept again last: the oldest stay first)
        if len(self._kept) >= self._max_entries:
            self._kept.pop(next(iter(self._kept)))       # the one read longest ago
        self._kept[key] = reading.result()
