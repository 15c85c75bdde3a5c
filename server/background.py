"""Periodic work inside every server process: expiring holds and unpaid reservations.
Each job is idempotent and safe to run on every instance at once."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


async def every(seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    while True:
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background job %s failed; it runs again in %ss", name, seconds)
        await asyncio.sleep(seconds)     # a schedule, not a synchronisation


class Background:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task] = []

    def start(self, seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
        self._tasks.append(asyncio.create_task(every(seconds, name, job), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
