"""Fixtures: the real application from the real factory, on SQLite and on the real MariaDB, and the
backends and peers the tests share. Helpers are in tests/support/.

Backends are started by `scripts/test`, which exports TICKETBLUE_TEST_* variables. A test
that needs a backend that is not there fails; it never skips.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import aioboto3
import pytest

from seatmap.memory import MemoryEngine
from seatmap.redis_engine import RedisEngine
from server.app import create_app
from server.db.database import Database
from server.redis_client import is_cluster, open_redis
from server.settings import Settings
from server.wiring import TOSS_SANDBOX
from tests.support.api import ApiClient
from tests.support.backends import (Bucket, backend_url, empty_mysql, empty_redis, migrate_sqlite, reset_mysql,
                                    run_in_fresh_loop, settings_for, sqlite_copy)
from tests.support.engines import Truth
from tests.support.factories import make_round
from tests.support.peers.slack import SlackPeer
from tests.support.peers.smtp import SmtpServer
from tests.support.search import Catalogue, elasticsearch_settings, sample_catalogue

# The browser tests' fixtures (server, api, browser); the failover tests' (master_stop).
pytest_plugins = ["tests.support.browser", "tests.support.cluster"]


# ---- which combinations run -----------------------------------------------------------------------------
# A test that takes both a database and a seat engine (or a search backend) runs on the pairs that are
# deployed: the embedded one (SQLite, the in-process engine, SQL search) and MariaDB with each production
# backend. Each backend still meets both databases in the tests that take only one of them, and the
# other pairs (SQLite behind a Redis Cluster) exercise nothing that those do not, for half the time.
DEPLOYED_PAIRS = {
    "seat_engine_settings": {"sqlite": {"memory"}, "mariadb": {"redis", "cluster"}},
    "search_backend": {"sqlite": {"sql"}, "mariadb": {"sql", "elasticsearch"}},
}


def pytest_collection_modifyitems(config, items):
    def deployed(item) -> bool:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        database = params.get("database_url")
        return not any(isinstance(params.get(name), str) and params[name] not in pairs.get(database, {params[name]})
                       for name, pairs in DEPLOYED_PAIRS.items())
    kept, left_out = [], []
    for item in items:
        (kept if deployed(item) else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


# ---- databases ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def mysql_url() -> str:
    """The MariaDB test database, migrated from empty once per session."""
    url = backend_url("MYSQL_URL")
    run_in_fresh_loop(reset_mysql, url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (migrating each time would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    run_in_fresh_loop(migrate_sqlite, path)
    return path


@pytest.fixture(params=["sqlite", "mariadb"])
async def database_url(request, tmp_path) -> str:
    """Each database-facing test runs twice: on the embedded SQLite and on the real MariaDB."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    url = request.getfixturevalue("mysql_url")     # (an async fixture cannot be requested from here)
    await empty_mysql(url)
    return url


@pytest.fixture
async def empty_mysql_url(mysql_url) -> str:
    """The MariaDB test database with every table emptied."""
    await empty_mysql(mysql_url)
    return mysql_url


@pytest.fixture
async def db(database_url):
    """The database on its own, without an application."""
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
def empty_redis_url() -> str:
    """The single Redis, emptied (from sync fixtures too)."""
    return run_in_fresh_loop(empty_redis, "redis")


@pytest.fixture
async def redis_url(request) -> str:
    """The single Redis, emptied; or, in a test marked ON_REDIS_AND_CLUSTER (tests/support/backends.py),
    the single Redis and then the cluster."""
    return await empty_redis(getattr(request, "param", "redis"))


# ---- the application ---------------------------------------------------------------------------------
@pytest.fixture
def settings_overrides() -> dict:
    """Override in a test module (or with @pytest.mark.parametrize(indirect)) to change settings."""
    return {}


@pytest.fixture
def settings(tmp_path, database_url, settings_overrides) -> Settings:
    return settings_for(tmp_path, database_url, **settings_overrides)


@pytest.fixture
async def app(settings):
    return create_app(settings)


@pytest.fixture
async def client(aiohttp_client, app) -> ApiClient:
    return ApiClient(await aiohttp_client(app))


@pytest.fixture(params=["memory", "redis", "cluster"])
async def seat_engine_settings(request) -> dict:
    """Settings for the in-process engine, for the single Redis and for the Redis Cluster (emptied),
    for tests of the seat map."""
    if request.param == "memory":
        return {}
    return {"redis_url": await empty_redis(request.param)}


@pytest.fixture
async def show(client) -> dict:
    """A hall of 15 seats (10 R, 5 S), a performance and one round two days ahead."""
    admin = await client.token(admin=True)
    return {**await make_round(client, admin), "admin": admin}


@pytest.fixture
def sandbox(client, app):
    """The application's built-in Toss sandbox (its ledger shows how often money moved)."""
    return app[TOSS_SANDBOX]


# ---- seat engines, without the web application ---------------------------------------------------
@pytest.fixture
def truth():
    return Truth()


@pytest.fixture(params=["memory", "redis", "cluster"])
async def make_engine(request, truth):
    """A factory, so a test can have two engines on one store (two server processes): in process, on
    the single Redis, on the Redis Cluster."""
    made = []
    url = None if request.param == "memory" else await empty_redis(request.param)

    async def make():
        if url is None:
            if not made:                          # one process has one in-process engine
                made.append(MemoryEngine(truth))
            return made[0]
        made.append(RedisEngine(await open_redis(url), truth))
        assert is_cluster(made[-1]._redis) == (request.param == "cluster")
        return made[-1]
    yield make
    for engine in made:
        await engine.close()


@pytest.fixture
async def engine(make_engine):
    """One engine (of each kind)."""
    return await make_engine()


# ---- peers: mail, Slack, S3 ----------------------------------------------------------------------
@pytest.fixture
def smtp_server():
    """An SMTP server of the test's own (aiosmtpd) that keeps what it receives."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def slack(aiohttp_server) -> SlackPeer:
    """A server speaking Slack's incoming-webhook protocol; `slack.url` is the webhook."""
    peer = SlackPeer()
    server = await aiohttp_server(peer.app())
    peer.url = str(server.make_url(peer.path))
    return peer


@pytest.fixture
async def bucket(monkeypatch):
    """A fresh bucket on the S3 test server (moto accepts any credentials)."""
    endpoint = backend_url("S3_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    name = f"posters-{uuid.uuid4().hex[:16]}"
    async with aioboto3.Session().client("s3", endpoint_url=endpoint, region_name="ap-northeast-2") as s3:
        await s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
        yield Bucket(s3, name, endpoint)


# ---- search ------------------------------------------------------------------------------------------
@pytest.fixture(params=["sql", "elasticsearch"])
def search_backend(request) -> dict:
    """Settings for each search backend: SQL queries, and Elasticsearch with indices of the test's own."""
    return {} if request.param == "sql" else elasticsearch_settings(request)


@pytest.fixture
async def cat(client) -> Catalogue:
    """The catalogue most search tests search in; synced before it is returned."""
    return await sample_catalogue(client)
