"""What every benchmark needs: its own database and Redis, server processes, a show to book."""
from __future__ import annotations

import functools
import resource
import shutil
import subprocess
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from server.db.database import Database
from server.db.migrate import upgrade
from server.db.tables import users
from server.db.types import utcnow
from server.ratelimit import LIMITS
from server.redis_client import open_redis
from server.tokens import Tokens
from tests.support.api import ADMIN_KEY, ApiClient
from tests.support.backends import backend_url
from tests.support.factories import make_round
from tests.support.instances import JWT_SECRET, ServerProcess, start_instances

WORK = Path(__file__).resolve().parent.parent / ".benchmarks"


@functools.cache
def go_loadgen() -> Path | None:
    """The Go load generator (benchmarks/loadgen_go), built on first use, when Go is installed. It does
    what the Python generators do for far less CPU, which matters when they share the server's two
    cores; without Go the benchmarks use the Python ones."""
    if not shutil.which("go"):
        return None
    WORK.mkdir(exist_ok=True)
    binary = WORK / "loadgen-go"
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=Path(__file__).parent / "loadgen_go", check=True)
    return binary


SPARE_FILES = 500        # a server's own: database and Redis connections, logs, listening socket


def raise_open_files(sockets: int) -> int:
    """Raise this process's open-file limit (the servers and load generators inherit it) to what
    `sockets` on one process take, the hard limit too where we may (root with CAP_SYS_RESOURCE), and
    return how many sockets one process may then hold."""
    need = sockets + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return sockets
        except (ValueError, PermissionError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return sockets if hard == resource.RLIM_INFINITY else min(sockets, hard - SPARE_FILES)


def allow_open_files(sockets: int) -> None:
    """One server holds every socket: raise the open-file limit to what that takes, or say why the
    run cannot be made."""
    if raise_open_files(sockets) < sockets:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        sys.exit(f"{sockets:,} sockets on one server need {sockets + SPARE_FILES:,} open files, and the hard "
                 f"limit here is {hard:,} (ulimit -Hn): raise it, or run with fewer")


# The two kinds of Redis the benchmarks run on (--redis): one server, or the test Redis Cluster.
REDIS_KINDS = {"single": "REDIS_URL", "cluster": "REDIS_CLUSTER_URL"}


def redis_kinds(choice: str) -> tuple[str, ...]:
    """--redis single|cluster|both: the kinds to run on, in that order."""
    return tuple(REDIS_KINDS) if choice == "both" else (choice,)


async def fresh_backends(database: str = "ticketblue_bench", *, redis_kind: str = "single") -> dict[str, str]:
    """An empty, migrated MariaDB database of its own and an empty Redis (every master of a cluster);
    returns server settings."""
    url = make_url(backend_url("MYSQL_URL"))
    admin = Database(url.set(database="mysql").render_as_string(hide_password=False))
    async with admin.begin() as conn:
        await conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{database}`"))
        await conn.execute(sa.text(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    await admin.close()
    database_url = url.set(database=database).render_as_string(hide_password=False)
    db = Database(database_url)
    await upgrade(db)
    await db.close()
    redis_url = backend_url(REDIS_KINDS[redis_kind])
    client = await open_redis(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return {"database_url": database_url, "redis_url": redis_url, "admin_signup_key": ADMIN_KEY,
            "password_hash_time_cost": 1, "password_hash_memory_kib": 1024}


async def accounts(database_url: str, count: int) -> list[str]:
    """`count` new user accounts, an access token each. Made straight in the benchmark's own database and
    signed with the servers' JWT secret, as the server issues them (server/tokens.py): tens of thousands
    of sign-ups and logins through the API take minutes, and are not what the benchmarks measure."""
    db = Database(database_url)
    try:
        now = utcnow()
        async with db.begin() as conn:
            for start in range(0, count, 1000):
                await conn.execute(users.insert(), [
                    {"email": f"bench{i}@example.com", "name": f"Bench {i}", "role": "user", "status": "active",
                     "created_at": now} for i in range(start, min(count, start + 1000))])
            ids = (await conn.execute(sa.select(users.c.id).where(users.c.email.like("bench%@example.com"))
                                      .order_by(users.c.id))).scalars().all()
    finally:
        await db.close()
    tokens = Tokens(JWT_SECRET, ttl_seconds=3 * 3600)
    return [tokens.issue(user_id, "user") for user_id in ids]


def rate_limits_off() -> dict[str, str]:
    """Settings with every rate limit empty (off): the server as it was before it had them."""
    return {f"rate_limit_{limit.setting}": "" for limit in LIMITS}


@asynccontextmanager
async def servers(count: int, **settings) -> AsyncIterator[list[ServerProcess]]:
    WORK.mkdir(exist_ok=True)
    started = await start_instances(count, WORK, **settings)
    try:
        yield started
    finally:
        for server in started:
            server.stop()


@asynccontextmanager
async def api(server: ServerProcess) -> AsyncIterator[ApiClient]:
    async with aiohttp.ClientSession(base_url=server.url, connector=aiohttp.TCPConnector(limit=0)) as session:
        yield ApiClient(session)


async def show_in(client: ApiClient, layout: list[dict], prices: dict[str, int]) -> dict:
    """A hall of `layout` (its sections), a performance with `prices` and a round; with the token of the
    admin who made them ("admin")."""
    admin = await client.token(admin=True)
    return {**await make_round(client, admin, sections=layout, prices=prices), "admin": admin}


async def big_show(client: ApiClient, *, sections: int = 4, rows: int = 20, seats_per_row: int = 25) -> dict:
    """A hall of sections × rows × seats (2,000 by default), all grade R, a performance and a round (show_in)."""
    layout = [{"name": chr(ord("A") + i), "rows": rows, "seats_per_row": seats_per_row, "grade": "R"}
              for i in range(sections)]
    return await show_in(client, layout, {"R": 100000})
