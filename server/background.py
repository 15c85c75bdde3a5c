"""Loops that run inside a server process until it stops: expiring holds and unpaid reservations,
the job schedule, pub/sub listeners, replica checks. Each periodic job is idempotent and safe to run
on every instance at once.

Stopping does not rest on cancellation alone. A library that swallows a cancel (async-timeout on
Python 3.11, redis-py's reads: redis/redis-py#2551) would leave its loop running and stop() waiting
for it forever; so every loop also watches a stop flag, and every nap ends the moment it is set."""
from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Awaitable, Callable, Coroutine

from server.request_ids import shared_task

log = logging.getLogger(__name__)


async def nap(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds` (a schedule, not a synchronisation), or less if stopping. asyncio.timeout, not
    wait_for: on Python 3.11 wait_for can swallow a cancel that races its wake-up."""
    with suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopping.wait()


async def every(seconds: float, name: str, job: Callable[[], Awaitable[object]], stopping: asyncio.Event) -> None:
    while not stopping.is_set():
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s failed; it runs again in %ss", name, seconds)
        await nap(stopping, seconds)


class Background:
    """A set of loops with one stop. A loop is given `stopping` and ends when it is set."""

    def __init__(self) -> None:
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def spawn(self, name: str, loop: Callable[[asyncio.Event], Coroutine[object, object, object]]) -> None:
        self._tasks = [task for task in self._tasks if not task.done()]       # (loops that ended by themselves)
        self._tasks.append(shared_task(loop(self.stopping), name=name))   # (a request may start a listener)

    def start(self, seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` now and then every `seconds` after each run ends."""
        self.spawn(name, lambda stopping: every(seconds, name, job, stopping))

    async def stop(self) -> None:
        """Set the flag, cut short what is running, and wait for every loop to end (after which
        loops may be started again)."""
        self.stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.stopping.clear()
