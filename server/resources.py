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
from server.app_keys import (BACKGROUND, DATABASE, DISPATCHER, EVENT_BUS, HEALTH, HTTP, HUB, JOBS, SEARCH,
                             SEAT_ENGINE, SERVICES, SETTINGS, STORAGE, TOSS, TOSS_SANDBOX)
from server.background import Background
from server.db.database import Database
from server.db.migrate import upgrade
from server.jobs.service import Jobs, job_context
from server.notify import open_channels
from server.notify.events import open_bus
from server.middleware import METRICS
from server.outbox import SEARCH as SEARCH_CHANNEL, Dispatcher, Policy
from server.payments import open_toss
from server.search.service import open_search
from server.seating import load_truth
from server.services import build_services
from server.storage import open_storage

log = logging.getLogger(__name__)


async def database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = Database(settings.resolved_database_url, settings.replicas,
                  max_lag_seconds=settings.replica_max_lag_seconds, check_seconds=settings.replica_check_seconds)
    if db.dialect == "sqlite":
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        # The embedded run migrates itself; MySQL deployments run `python -m server migrate` once.
        await upgrade(db)
    await db.watch_replicas()          # reads go to replicas that are up and in step, else to the primary
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
        from seatmap.redis_client import connect
        from seatmap.redis_engine import RedisEngine
        client = connect(settings.redis_url)
        engine = RedisEngine(client, loader)
        app[HEALTH].add("redis", client.ping)
    else:
        engine = MemoryEngine(loader)
    app[SEAT_ENGINE] = engine
    yield
    await engine.close()


async def search(app: web.Application) -> AsyncIterator[None]:
    """Search: Elasticsearch when configured (indices created if missing), else SQL queries; answers
    cached in Redis when configured, else in-process. Kept in step through the outbox (notifications)."""
    async with open_search(app[SETTINGS], app[DATABASE], registry=app[METRICS].registry) as opened:
        app[SEARCH] = opened
        if app[SETTINGS].elasticsearch_url:
            app[HEALTH].add("elasticsearch", opened.ping)
        yield


async def notifications(app: web.Application) -> AsyncIterator[None]:
    """The SSE event bus (Redis pub/sub when configured) and the outbox dispatcher that delivers
    SSE, mail and Slack messages in the background, outside any booking."""
    settings, db = app[SETTINGS], app[DATABASE]
    bus = await open_bus(settings)
    channels = {**open_channels(settings, db, app[HTTP], bus), SEARCH_CHANNEL: app[SEARCH].channel}
    dispatcher = Dispatcher(db, channels, Policy.from_settings(settings))
    app[EVENT_BUS], app[DISPATCHER] = bus, dispatcher
    dispatcher.start()
    yield
    await dispatcher.stop()
    await bus.close()


async def payments(app: web.Application) -> AsyncIterator[None]:
    """The Toss client; without Toss keys also the built-in sandbox it talks to (server/payments)."""
    async with open_toss(app[SETTINGS], app[HTTP]) as (toss, sandbox):
        app[TOSS] = toss
        if sandbox is not None:
            app[TOSS_SANDBOX] = sandbox
        yield


async def services(app: web.Application) -> AsyncIterator[None]:
    app[HUB] = Hub(app[SEAT_ENGINE], lambda round_id: app[SERVICES].seating.seat_ids(round_id))
    app[SERVICES] = build_services(app)
    yield
    await app[HUB].close()


async def background(app: web.Application) -> AsyncIterator[None]:
    """Hold expiry runs often (seats come back quickly); unpaid reservations less often."""
    settings, services, tasks = app[SETTINGS], app[SERVICES], Background()
    tasks.start(0.25, "expire-holds", services.seating.expire_holds)
    tasks.start(5, "expire-reservations", services.checkout.expire_due)
    repair_window = 60 + 3 * settings.seat_repair_seconds    # several chances for every recent change
    tasks.start(settings.seat_repair_seconds, "repair-seat-maps",
                partial(services.seating.repair_recent, repair_window))
    app[BACKGROUND] = tasks
    yield
    await tasks.stop()


async def jobs(app: web.Application) -> AsyncIterator[None]:
    """The batch jobs (server/jobs/): run by the admin API, and on their schedule when
    TICKETBLUE_JOBS_SCHEDULED; stopped first on the way out (a run cut short is recorded as such)."""
    app[JOBS] = Jobs(job_context(app[SETTINGS], app[DATABASE], app[STORAGE], app[SERVICES]))
    app[JOBS].start()
    yield
    await app[JOBS].stop()


ALL = (database, http_client, storage, seat_engine, search, notifications, payments, services, background, jobs)
