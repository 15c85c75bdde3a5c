"""Opening and closing what the application holds, as aiohttp cleanup contexts, in order."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from server.app_keys import DATABASE, HEALTH, HTTP, SERVICES, SETTINGS
from server.db.database import Database
from server.db.migrate import upgrade
from server.services import build_services

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


async def services(app: web.Application) -> AsyncIterator[None]:
    app[SERVICES] = build_services(app)
    yield


ALL = (database, http_client, services)
