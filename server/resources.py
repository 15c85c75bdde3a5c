"""Opening and closing what the application holds, as aiohttp cleanup contexts, in order."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from functools import partial

from seatmap.hub import Hub
from seatmap.memory import MemoryEngine
from server.app_keys import BACKGROUND, DATABASE, HEALTH, HTTP, HUB, SEAT_ENGINE, SERVICES, SETTINGS, STORAGE
from server.background import Background
from server.db.database import Database
from server.db.migrate import upgrade
from server.seating import load_truth
from server.services import build_services
from server.storage import open_storage

log = logging.getLogger(__name__)


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = Database(settings.resolved_database_url, settings.replicas)
    if db.dialect == "sqlite":
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        # The embedded run migrates itself; MySQL deployments run `python -m server migrate` once.
        await upgrade(db)
    app[DATABASE] = db
    app[HEALTH].add("database", db.ping)
    yield
    await db.close()


async def http_client(app: web.Application) -> AsyncIterator[None]:
    """One client session for every outgoing call (Toss, Kakao, Slack)."""
    async with aiohttp.ClientSession() as session:
        app[HTTP] = session
        yield


async def storage(app: web.Application) -> AsyncIterator[None]:
    """Poster storage: the S3 client when a bucket is configured, else the local media folder."""
    async with open_storage(app[SETTINGS]) as store:
        app[STORAGE] = store
        if app[SETTINGS].s3_bucket:
            app[HEALTH].add("s3", store.ping)
        yield


async def seat_engine(app: web.Application) -> AsyncIterator[None]:
    """Redis when configured (many instances), else the in-process engine (one instance)."""
    settings = app[SETTINGS]
    loader = partial(load_truth, app[DATABASE])
    if settings.redis_url:
        from seatmap.redis_engine import RedisEngine, connect
        client = connect(settings.redis_url)
        engine = RedisEngine(client, loader)
        app[HEALTH].add("redis", client.ping)
    else:
        engine = MemoryEngine(loader)
    app[SEAT_ENGINE] = engine
    yield
    await engine.close()


async def services(app: web.Application) -> AsyncIterator[None]:
    app[HUB] = Hub(app[SEAT_ENGINE], lambda round_id: app[SERVICES].seating.seat_ids(round_id))
    app[SERVICES] = build_services(app)
    yield
    await app[HUB].close()


async def background(app: web.Application) -> AsyncIterator[None]:
    """Hold expiry runs often (seats come back quickly); unpaid reservations less often."""
    services, tasks = app[SERVICES], Background()
    tasks.start(0.25, "expire-holds", services.seating.engine.expire_due)
    tasks.start(5, "expire-reservations", services.reservations.expire_due)
    app[BACKGROUND] = tasks
    yield
    await tasks.stop()


ALL = (database, http_client, storage, seat_engine, services, background)
