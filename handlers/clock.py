"""The server's clock, for the pages' clock and countdowns (a sale opens by this clock)."""
from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from aiohttp import web

from handlers.routing import Api
from server.wiring import SETTINGS

api = Api("clock")


class TimeOut(msgspec.Struct):
    server_time: datetime
    epoch_ms: int


@api.get("/api/time", response=TimeOut)
async def server_time(request: web.Request) -> TimeOut:
    """The server's time now."""
    now_ms = time.time_ns() // 1_000_000
    return TimeOut(server_time=datetime.fromtimestamp(now_ms / 1000, ZoneInfo(request.app[SETTINGS].timezone)),
                   epoch_ms=now_ms)
