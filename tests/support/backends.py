"""The real backends as the tests and the benchmarks use them: their URLs (exported by scripts/test and
benchmarks/run), settings for an application on them, databases made ready or emptied, and the
single Redis and the Redis Cluster emptied and looked into."""
from __future__ import annotations

import asyncio
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.db.database import Database
from server.db.migrate import upgrade
from server.db.tables import metadata
from server.redis_client import Client, is_cluster, is_cluster_url, open_redis
from server.settings import Settings, load
from server.wiring import DATABASE
from tests.support.api import ADMIN_KEY, JWT_SECRET, MANY_ACCOUNTS


class BackendMissing(pytest.fail.Exception, SystemExit):
    """A backend's URL is not in the environment. A test that needs it fails with this message (as
    pytest.fail does, no traceback), it never skips; a benchmark ends with it (as SystemExit does)."""

    def __init__(self, message: str):
        pytest.fail.Exception.__init__(self, message, pytrace=False)
        SystemExit.__init__(self, message)


def backend_url(name: str) -> str:
    value = os.environ.get(f"TICKETBLUE_TEST_{name}")
    if not value:
        raise BackendMissing(f"TICKETBLUE_TEST_{name} is not set: run the suite with scripts/test (the benchmarks "
                             f"with benchmarks/run), which starts the real backends")
    return value


def run_in_fresh_loop(coroutine_function, *args):
    """Run set-up coroutines for session fixtures, which may be resolved inside a running loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine_function(*args)).result()


def settings_for(tmp_path: Path, database_url: str, **overrides) -> Settings:
    """Settings of an application for tests: cheap password hashes, the tests' admin key and JWT secret,
    rate limits that let one address sign up many accounts."""
    values = dict(database_url=database_url, data_dir=str(tmp_path), jwt_secret=JWT_SECRET,
                  admin_signup_key=ADMIN_KEY, password_hash_time_cost=1, password_hash_memory_kib=1024,
                  log_level="WARNING", **MANY_ACCOUNTS)
    values.update(overrides)
    return load(environ={}, **values)


# ---- databases -------------------------------------------------------------------------------------
async def migrate_sqlite(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db)
    await db.close()


def sqlite_copy(template: Path, folder: Path) -> str:
    """A copy of the migrated SQLite template in `folder` (migrating each time would be slow); its URL."""
    path = folder / "ticketblue.sqlite3"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


async def reset_mysql(url: str) -> None:
    """Drop whatever tables are there (an older or newer schema from another branch, not only ours),
    then migrate from empty."""
    db = Database(url)
    async with db.begin() as conn:
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()):
            await conn.execute(sa.text(f"DROP TABLE `{table}`"))
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
    await upgrade(db)
    await db.close()


async def empty_mysql(url: str) -> None:
    """Every table of the MariaDB test database emptied."""
    db = Database(url)
    async with db.begin() as conn:
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in metadata.sorted_tables:
            await conn.execute(table.delete())
        await conn.execute(sa.text("SET FOREIGN_KEY_CHECKS = 1"))
    await db.close()


async def execute(app, statement, params=None) -> None:
    """Test set-up straight in the application's database (moving times into the past, mostly)."""
    async with app[DATABASE].begin() as conn:
        await conn.execute(statement, params)


# ---- Redis: the single server and the cluster ----------------------------------------------------------
# The Redis backends by the names the fixtures' parameters give them.
REDIS_URL_NAMES = {"redis": "REDIS_URL", "cluster": "REDIS_CLUSTER_URL"}
# For a test that must hold on the single Redis and on the cluster: it runs once on each, through the
# `redis_url` fixture (which is the single Redis for a test without this mark).
ON_REDIS_AND_CLUSTER = pytest.mark.parametrize("redis_url", ["redis", "cluster"], indirect=True)
# For a test of the cluster alone (a failover): `redis_url` is the emptied cluster.
ON_CLUSTER = pytest.mark.parametrize("redis_url", ["cluster"], indirect=True)


async def flush_redis(url: str) -> None:
    """Every key gone: from the single Redis's database, or from every master of a cluster."""
    client = await open_redis(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def empty_redis(kind: str) -> str:
    """The URL of the single Redis or of the cluster (`kind`, a key of REDIS_URL_NAMES), emptied. It
    must be of its kind (the server's client follows the URL's scheme): a test meant for the cluster
    must never pass on the single server."""
    url = backend_url(REDIS_URL_NAMES[kind])
    assert is_cluster_url(url) == (kind == "cluster"), url
    await flush_redis(url)
    return url


async def keys_matching(client: Client, pattern: str) -> list[str]:
    """The keys that match `pattern`, sorted: on a cluster, those of every master (KEYS asks one node)."""
    options = {"target_nodes": client.PRIMARIES} if is_cluster(client) else {}
    return sorted(await client.keys(pattern, **options))


async def stored_keys(url: str, pattern: str) -> list[str]:
    """`keys_matching` on the Redis (or cluster) at `url`."""
    client = await open_redis(url)
    try:
        return await keys_matching(client, pattern)
    finally:
        await client.aclose()


# ---- S3 --------------------------------------------------------------------------------------------
@dataclass
class Bucket:
    """A bucket of its own on the S3 test server (moto), with the client that made it."""
    client: object
    name: str
    endpoint: str

    async def keys(self) -> list[str]:
        listed = await self.client.list_objects_v2(Bucket=self.name)
        return sorted(o["Key"] for o in listed.get("Contents", []))
