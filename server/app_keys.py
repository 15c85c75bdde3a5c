"""Typed keys for everything the application holds. Opened and closed in server/resources.py."""
from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from seatmap.engine import SeatEngine
from seatmap.hub import Hub
from server.background import Background
from server.db.database import Database
from server.health import Health
from server.notify.events import LocalBus
from server.outbox import Dispatcher
from server.settings import Settings
from server.storage import Storage
from server.tokens import Tokens

if TYPE_CHECKING:
    from server.jobs.service import Jobs
    from server.payments.sandbox import TossSandbox
    from server.payments.toss import TossPayments
    from server.ratelimit import RateLimits
    from server.search.service import Search
    from server.services import Services

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
TOKENS = web.AppKey("tokens", Tokens)
HEALTH = web.AppKey("health", Health)
HTTP = web.AppKey("http_client", aiohttp.ClientSession)
STORAGE = web.AppKey("storage", Storage)
SEAT_ENGINE = web.AppKey("seat_engine", SeatEngine)
HUB = web.AppKey("hub", Hub)
BACKGROUND = web.AppKey("background", Background)
EVENT_BUS = web.AppKey("event_bus", LocalBus)          # LocalBus or RedisBus
DISPATCHER = web.AppKey("outbox_dispatcher", Dispatcher)
TOSS: web.AppKey["TossPayments"] = web.AppKey("toss")
TOSS_SANDBOX: web.AppKey["TossSandbox"] = web.AppKey("toss_sandbox")   # only when this server hosts it
SERVICES: web.AppKey["Services"] = web.AppKey("services")
SEARCH: web.AppKey["Search"] = web.AppKey("search")    # Elasticsearch or SQL, with its cache and outbox channel
JOBS: web.AppKey["Jobs"] = web.AppKey("jobs")          # the batch jobs: runner, schedule, run records
RATE_LIMITS: web.AppKey["RateLimits"] = web.AppKey("rate_limits")    # server/ratelimit.py
