"""Fixtures: the real application from the real factory, on SQLite and on the real MariaDB.

Backends are started by `scripts/test`, which exports TICKETBLUE_TEST_* variables. A test
that needs a backend that is not there fails; it never skips.
"""
from __future__ import annotations

import asyncio
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import redis.asyncio
import sqlalchemy as sa

from seatmap.engine import RoundTruth
from seatmap.memory import MemoryEngine
from seatmap.redis_engine import RedisEngine
from server.app import create_app
from server.db.database import Database
from server.db.migrate import upgrade
from server.db.tables import metadata
from server.redis_client import connect
from server.settings import Settings, load
from tests.support import ADMIN_KEY, MANY_ACCOUNTS, ApiClient, make_round



def backend_url(name: str) -> str:
    value = os.environ.get(f"TICKETBLUE_TEST_{name}")
    if not value:
        pytest.fail(f"TICKETBLUE_TEST_{name} is not set: run the suite with scripts/test, "
                    f"which starts the real backends", pytrace=False)
    return value


def run_in_fresh_loop(coroutine_function, *args):
    """Run set-up coroutines for session fixtures, which may be resolved inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result()


async def _reset_mysql(url: str) -> None:
    db = Database(url)
    async with db.begin() as conn:
        # Whatever is there (an older or newer schema from another branch), not only our tables.
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()):
            await conn.execute(sa.text(f"DROP TABLE `{table}`"))
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
    await upgrade(db)
    await db.close()


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """The MariaDB test database, migrated from empty once per session."""
    url = backend_url("MYSQL_URL")
    run_in_fresh_loop(_reset_mysql, url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.close()
    run_in_fresh_loop(make)
    return path


async def _empty_tables(url: str) -> None:
    db = Database(url)
    async with db.begin() as conn:
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in metadata.sorted_tables:
            await conn.execute(table.delete())
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
    await db.close()


@pytest.fixture(params=["sqlite", "mariadb"])
async def database_url(request, tmp_path) -> str:
    """Each database-facing test runs twice: on the embedded SQLite and on the real MariaDB."""
    if request.param == "sqlite":
        path = tmp_path / "ticketblue.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("mysql_url")     # (an async fixture cannot be requested from here)
    await _empty_tables(url)
    return url


@pytest.fixture
async def empty_mysql_url(mysql_url) -> str:
    """The MariaDB test database with every table emptied."""
    await _empty_tables(mysql_url)
    return mysql_url


@pytest.fixture
def empty_redis_url() -> str:
    url = backend_url("REDIS_URL")
    redis.Redis.from_url(url).flushdb()
    return url


def test_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    values = dict(database_url=database_url, data_dir=str(tmp_path), jwt_secret="test-jwt-secret-that-is-long-enough-for-hs256",
                  admin_signup_key=ADMIN_KEY, password_hash_time_cost=1, password_hash_memory_kib=1024,
                  log_level="WARNING", **MANY_ACCOUNTS)
    values.update(overrides)
    return load(environ={}, **values)


@pytest.fixture
def settings_overrides() -> dict:
    """Override in a test module (or with @pytest.mark.parametrize(indirect)) to change settings."""
    return {}


@pytest.fixture
def settings(tmp_path, database_url, settings_overrides) -> Settings:
    return test_settings(tmp_path, database_url, **settings_overrides)


@pytest.fixture
async def app(settings):
    return create_app(settings)


@pytest.fixture
async def client(aiohttp_client, app) -> ApiClient:
    return ApiClient(await aiohttp_client(app))


@pytest.fixture(params=["memory", "redis"])
def seat_engine_settings(request) -> dict:
    """Settings for the in-process engine and for Redis (flushed), for tests of the seat map."""
    if request.param == "memory":
        return {}
    return {"redis_url": request.getfixturevalue("empty_redis_url")}


@pytest.fixture
async def show(client) -> dict:
    """A hall of 15 seats (10 R, 5 S), a performance and one round two days ahead."""
    admin = await client.token(admin=True)
    return {**await make_round(client, admin), "admin": admin}


# ---- seat engines, without the web application ---------------------------------------------------
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


@pytest.fixture
def truth():
    return Truth()


@pytest.fixture(params=["memory", "redis"])
async def make_engine(request, truth):
    """A factory, so a test can have two engines on one store (two server processes)."""
    made = []
    if request.param == "redis":
        async with redis.asyncio.from_url(backend_url("REDIS_URL")) as client:
            await client.flushdb()

    async def make():
        if request.param == "memory":
            if not made:                          # one process has one in-process engine
                made.append(MemoryEngine(truth))
            return made[0]
        made.append(RedisEngine(connect(backend_url("REDIS_URL")), truth))
        return made[-1]
    yield make
    for engine in made:
        await engine.close()
